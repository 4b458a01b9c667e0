import { appendFile, mkdir, mkdtemp, open, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeStoreDirUnwritable, unwritableDirSupport } from '../helpers/makeStoreDirUnwritable.ts';

const unsupported = await unwritableDirSupport();

async function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: NodeJS.ErrnoException) => error.code,
  );
}

describe.skipIf(unsupported !== null)(
  `makeStoreDirUnwritable${unsupported === null ? '' : ` (cannot here: ${unsupported})`}`,
  () => {
    let dir: string;

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'wfm-unwritable-'));
    });

    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('fails writes through an already open file and file creation, for root too, until restore()', async () => {
      expect(process.getuid?.()).toBe(0);
      await writeFile(join(dir, 'CURRENT'), 'MANIFEST-000002\n');
      await mkdir(join(dir, 'sub'));
      await writeFile(join(dir, 'sub', 'inner'), 'i');
      const log = await open(join(dir, '000003.log'), 'a');
      const unwritable = await makeStoreDirUnwritable(dir);
      try {
        expect(unwritable.dir).toBe(dir);
        expect([...unwritable.paths].sort()).toEqual(
          [
            dir,
            join(dir, '000003.log'),
            join(dir, 'CURRENT'),
            join(dir, 'sub'),
            join(dir, 'sub', 'inner'),
          ].sort(),
        );
        expect(await errorCode(log.appendFile('record'))).toBe('EPERM');
        expect(await errorCode(appendFile(join(dir, 'CURRENT'), 'x'))).toBe('EPERM');
        expect(await errorCode(writeFile(join(dir, '000004.log'), 'x'))).toBe('EPERM');
        expect(await errorCode(writeFile(join(dir, 'sub', 'inner'), 'x'))).toBe('EPERM');
        expect(await errorCode(unlink(join(dir, 'CURRENT')))).toBe('EPERM');
        expect(await readFile(join(dir, 'CURRENT'), 'utf8')).toBe('MANIFEST-000002\n');
      } finally {
        await unwritable.restore();
      }
      try {
        await unwritable.restore();
        await log.appendFile('record');
        await writeFile(join(dir, '000004.log'), 'x');
        expect(await readFile(join(dir, '000003.log'), 'utf8')).toBe('record');
      } finally {
        await log.close();
      }
    });

    it('rejects a directory that does not exist', async () => {
      await expect(makeStoreDirUnwritable(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    });
  },
);
