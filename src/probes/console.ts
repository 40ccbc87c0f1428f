// The guest's serial console, read as evidence when a migrated guest is lost: a guest whose
// memory arrived damaged rarely dies cleanly. Seen in the lab on QEMU 7.2 under TCG: a
// kernel panic, but also an oops that kills only the agent, "BUG: scheduling while atomic"
// and a hang, or the agent's own segfault. Without the console the record could only say
// "silent".

/** Lines a Linux guest or migbench's guest init prints when the guest is failing. */
const FAULT =
  /Kernel panic - not syncing|kernel BUG at|(?<![A-Za-z])BUG: |\bOops\b|general protection fault|invalid opcode|list_(?:add|del) corruption|stack-protector|Segmentation fault|Illegal instruction|Bus error|migbench-init: agent exited with status [1-9]/;

/** The longest excerpt a record carries: the first line says what happened; the rest is in the console. */
const MAX_CHARS = 160;

/** The first line of a console that shows the guest failing, without the kernel's timestamp; null when none does. */
export function consoleFault(text: string): string | null {
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^\[\s*\d+\.\d+\]\s*/, '').trim();
    if (FAULT.test(line)) return line.length > MAX_CHARS ? `${line.slice(0, MAX_CHARS - 1)}…` : line;
  }
  return null;
}
