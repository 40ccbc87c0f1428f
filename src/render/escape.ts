// Names and messages are data wherever they are shown: what a Markdown table, a GitHub
// comment or a Mermaid label would read as syntax is escaped for that place.

/**
 * Text for a Markdown table cell, heading or paragraph: one line, Markdown punctuation
 * backslash-escaped (no column breaks, code, links or HTML), and `@`/`#` followed by a zero
 * width space so GitHub mentions nobody and links no issue.
 */
export function markdownText(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(/[\\`*_[\]<>|~!]/g, (c) => `\\${c}`)
    .replace(/[@#]/g, (c) => `${c}\u200b`);
}

/** Text for a quoted Mermaid label: one line, no double quote (Mermaid has no escape for it inside a string). */
export function mermaidText(text: string): string {
  return text.replace(/\r\n|\r|\n/g, ' ').replaceAll('"', "'");
}
