// The environment the Action gives the migbench it runs: its own, less what only the Action
// needs. JavaScript actions get every input as INPUT_<NAME> (the github-token among them)
// and child processes inherit the environment (actions/toolkit#309): a token handed to
// QEMU, ssh or a hypervisor's CLI is one more place it can leak from.
const ACTION_ONLY =
  /^(INPUT_.*|GITHUB_TOKEN|GH_TOKEN|ACTIONS_RUNTIME_TOKEN|ACTIONS_RUNTIME_URL|ACTIONS_ID_TOKEN_REQUEST_TOKEN|ACTIONS_ID_TOKEN_REQUEST_URL|ACTIONS_CACHE_URL|ACTIONS_RESULTS_URL)$/;

/** The environment for migbench's own process: everything but the Action's inputs and GitHub's tokens. */
export function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !ACTION_ONLY.test(name)));
}
