// The tests run lab files on several workers at once, each in an embedded lab of its own
// (MIGBENCH_LAB): the labs' namespaces keep their identical addresses apart, and their
// folders and locks are their own. A TCG guest keeps a core busy only while it boots or
// dirties memory, so two labs on two cores finish the lab files in little more than half
// the time one did.

/** How many labs, and so how many lab test files at a time. */
export const TEST_LABS = 3;

/** The lab of the worker vitest numbers `poolId` (1 to TEST_LABS); never the user's own lab (`mb`). */
export function testLabName(poolId: number): string {
  return `mbt${poolId}`;
}
