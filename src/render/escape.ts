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

/**
 * Text inside an HTML element of GitHub Markdown (a <summary>): one line, HTML-escaped
 * (backslashes do nothing there), Markdown punctuation as character references, and
 * mentions and issue links neutralised as above.
 */
export function htmlText(text: string): string {
  return (
    text
      .replace(/\r\n|\r|\n/g, ' ')
      .replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
      .replace(/[@#]/g, (c) => `${c}\u200b`)
      // Markdown punctuation as character references, last (they hold a # of their own):
      // shown as itself, read as nothing.
      .replace(/[[\]`*_|~\\!]/g, (c) => `&#${c.charCodeAt(0)};`)
  );
}

/**
 * Text for a quoted Mermaid label: one line, no double quote (Mermaid has no escape for it
 * inside a string), no angle brackets (Mermaid reads some labels as HTML), and no `#`
 * entity code (#lt;) or mention.
 */
export function mermaidText(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, ' ')
    .replaceAll('"', "'")
    .replaceAll('<', '‹')
    .replaceAll('>', '›')
    .replace(/[@#]/g, (c) => `${c}\u200b`);
}
