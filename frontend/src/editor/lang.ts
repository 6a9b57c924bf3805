// Syntax highlighting by file extension.

import type { Extension } from '@codemirror/state';
import { cpp } from '@codemirror/lang-cpp';
import { python } from '@codemirror/lang-python';
import { javascript } from '@codemirror/lang-javascript';
import { java } from '@codemirror/lang-java';

const table: [RegExp, () => Extension, string][] = [
  [/\.(c|h|cc|cpp|cxx|hpp|hh|hxx|ino)$/i, () => cpp(), 'C/C++'],
  [/\.(py|pyw|pyi)$/i, () => python(), 'Python'],
  [/\.(js|mjs|cjs|jsx)$/i, () => javascript({ jsx: true }), 'JavaScript'],
  [/\.(ts|mts|cts|tsx)$/i, () => javascript({ typescript: true }), 'TypeScript'],
  [/\.java$/i, () => java(), 'Java'],
];

/** The language extension for a path and its display name ('' / [] when none). */
export function languageFor(path: string): { ext: Extension; name: string } {
  for (const [re, make, name] of table) if (re.test(path)) return { ext: make(), name };
  return { ext: [], name: 'Plain text' };
}
