// Static checks of the front end's sources: user text only ever reaches the
// page as text, so no HTML-parsing sinks appear in frontend/src at all.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../integ/lib/cluster.mjs';

function files(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

test('frontend/src has no HTML sinks (innerHTML, outerHTML, insertAdjacentHTML, document.write, eval)', () => {
  const sinks = /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(|createContextualFragment/;
  const found = [];
  for (const f of files(path.join(ROOT, 'frontend/src'))) {
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      if (sinks.test(line)) found.push(`${path.relative(ROOT, f)}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(found, []);
});
