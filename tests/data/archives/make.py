#!/usr/bin/env python3
"""Generates the lesson-template archive corpus in this directory.

Python 3 standard library only; the output is deterministic (fixed times,
seeded random data), so running it again rewrites the same bytes. The files
are committed; README.md lists each with the error code cohort answers.

    python3 tests/data/archives/make.py

The hostile files assume the template limits the tests run with (README.md):
templates.max_entries=100, templates.max_file=1M, templates.max_total=3M,
templates.max_ratio=100.
"""
import gzip
import hashlib
import io
import json
import lzma
import os
import random
import tarfile
import warnings
import zipfile

warnings.filterwarnings("ignore", message="Duplicate name")

HERE = os.path.dirname(os.path.abspath(__file__))
DATE = (2024, 1, 2, 3, 4, 6)
MTIME = 1704164646
MIB = 1 << 20

# A tiny valid PNG (1x1, grey): binary bytes with NULs.
PNG = bytes.fromhex(
    '89504e470d0a1a0a0000000d4948445200000001000000010800000000'
    '3a7e9b550000000a49444154789c63600000000200015d0a2db40000000049454e44ae426082')


def out(name, data):
    with open(os.path.join(HERE, name), 'wb') as f:
        f.write(data)


# ---- the good template ------------------------------------------------------
# (path, bytes) for files, (path, None) for directories.
GOOD = [
    ('README.md', b'# Lesson 1\n\nOpen src/main.py and run it.\n'),
    ('src/', None),
    ('src/main.py', b'def main():\n    print("hello")\n\n\nif __name__ == "__main__":\n    main()\n'),
    ('src/lib/', None),
    ('src/lib/util.py', b'def add(a, b):\n    return a + b\n'),
    ('src/lib/deep/er/still.txt', b'nested without directory entries for its parents\n'),
    ('empty/', None),
    ('assets/', None),
    ('assets/pixel.png', PNG),
    ('assets/zeros.bin', b'\x00' * 300 + b'\x01\x02\x03'),
    ('windows.txt', b'line one\r\nline two\r\n'),
    ('donn\u00e9es/\u00e9l\u00e8ve-\u65e5\u672c.txt'.encode().decode(), 'caf\u00e9 \u2615 na\u00efve\n'.encode()),
]

GOOD2 = [
    ('README.md', b'# Lesson 1, second version\n'),
    ('v2/', None),
    ('v2/new.txt', b'only in the second template\n'),
]


def zip_bytes(entries, system=3):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            zi = zipfile.ZipInfo(name, DATE)
            zi.create_system = system
            if data is None:
                zi.external_attr = (0o40755 << 16) | 0x10
                z.writestr(zi, b'')
            else:
                zi.external_attr = 0o100644 << 16
                zi.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(zi, data)
    return buf.getvalue()


def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=fmt, encoding='utf-8', errors='surrogateescape') as t:
        for e in entries:
            if isinstance(e, tarfile.TarInfo):
                t.addfile(e, io.BytesIO(b'\0' * e.size) if e.isreg() else None)
                continue
            name, data = e
            ti = tarfile.TarInfo(name.rstrip('/') if data is None else name)
            ti.mtime = MTIME
            ti.uname = ti.gname = 'cohort'
            if data is None:
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            else:
                ti.size = len(data)
                ti.mode = 0o644
                t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def gz(data):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode='wb', mtime=0) as g:
        g.write(data)
    return buf.getvalue()


def xz(data):
    return lzma.compress(data, format=lzma.FORMAT_XZ, preset=9)


def manifest(entries):
    """The tree cohort must produce: every directory (implicit parents too) and file."""
    tree = {}
    for name, data in entries:
        path = name.rstrip('/')
        parts = path.split('/')
        for i in range(1, len(parts)):
            tree.setdefault('/'.join(parts[:i]), {'kind': 'dir'})
        if data is None:
            tree[path] = {'kind': 'dir'}
        else:
            tree[path] = {'kind': 'file', 'size': len(data), 'sha256': hashlib.sha256(data).hexdigest(),
                          'binary': b'\0' in data or not is_utf8(data)}
    return dict(sorted(tree.items(), key=lambda kv: kv[0].encode()))


def is_utf8(b):
    try:
        b.decode('utf-8')
        return True
    except UnicodeDecodeError:
        return False


def ti(name, type_, **kw):
    t = tarfile.TarInfo(name)
    t.type = type_
    t.mtime = MTIME
    t.mode = kw.pop('mode', 0o644)
    for k, v in kw.items():
        setattr(t, k, v)
    return t


def main():
    good_tar = tar_bytes(GOOD)
    out('good.zip', zip_bytes(GOOD))
    out('good.tar', good_tar)
    out('good.tar.gz', gz(good_tar))
    out('good.tar.xz', xz(good_tar))
    out('good2.zip', zip_bytes(GOOD2))
    with open(os.path.join(HERE, 'good.manifest.json'), 'w') as f:
        json.dump(manifest(GOOD), f, indent=1, ensure_ascii=False, sort_keys=False)
        f.write('\n')
    with open(os.path.join(HERE, 'good2.manifest.json'), 'w') as f:
        json.dump(manifest(GOOD2), f, indent=1, ensure_ascii=False)
        f.write('\n')

    ok = [('ok.txt', b'fine\n')]
    # Escapes.
    out('zip-dotdot.zip', zip_bytes(ok + [('../evil.txt', b'x')]))
    out('tar-dotdot.tar', tar_bytes(ok + [('a/../../evil.txt', b'x')]))
    out('zip-absolute.zip', zip_bytes(ok + [('/etc/evil.txt', b'x')]))
    out('tar-absolute.tar', tar_bytes(ok + [('/tmp/evil.txt', b'x')]))
    # Links and special files.
    link = zipfile.ZipInfo('link', DATE)
    link.create_system = 3
    link.external_attr = 0o120777 << 16
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w') as z:
        z.writestr(zipfile.ZipInfo('ok.txt', DATE), b'fine\n')
        z.writestr(link, b'/etc/passwd')
    out('zip-symlink.zip', buf.getvalue())
    out('tar-symlink.tar', tar_bytes(ok + [ti('link', tarfile.SYMTYPE, linkname='/etc/passwd', mode=0o777)]))
    out('tar-hardlink.tar', tar_bytes(ok + [ti('hard', tarfile.LNKTYPE, linkname='ok.txt')]))
    out('tar-chardev.tar', tar_bytes(ok + [ti('null', tarfile.CHRTYPE, devmajor=1, devminor=3)]))
    out('tar-blockdev.tar', tar_bytes(ok + [ti('sda', tarfile.BLKTYPE, devmajor=8, devminor=0)]))
    out('tar-fifo.tar', tar_bytes(ok + [ti('pipe', tarfile.FIFOTYPE)]))
    # Limits (see the header: max_entries=100, max_file=1M, max_total=3M, max_ratio=100).
    out('too-many-entries.tar.gz', gz(tar_bytes([('f%03d.txt' % i, b'') for i in range(101)])))
    out('too-many-entries.zip', zip_bytes([('f%03d.txt' % i, b'') for i in range(101)]))
    # big.bin first: the 1 MiB ratio floor is then crossed no earlier than max_file.
    out('over-max-file.zip', zip_bytes([('big.bin', b'\0' * (MIB + 4096))] + ok))
    rnd = random.Random(4)
    parts = [('part%d.bin' % i, rnd.randbytes(16 * 1024) + b'\0' * (900 * 1024)) for i in range(4)]
    out('over-max-total.tar.gz', gz(tar_bytes(parts)))
    # Zip bombs: far below every size limit per file, but the whole expands
    # more than 100 times the archive's size.
    out('bomb.zip', zip_bytes([('zeros%02d.bin' % i, b'\0' * (800 * 1024)) for i in range(25)]))
    out('bomb.tar.xz', xz(tar_bytes([('zeros%02d.bin' % i, b'\0' * (850 * 1024)) for i in range(60)])))
    # Names.
    out('zip-duplicate.zip', zip_bytes(ok + [('dup.txt', b'one'), ('dup.txt', b'two')]))
    out('tar-duplicate.tar', tar_bytes(ok + [('dup.txt', b'one'), ('dup.txt', b'two')]))
    out('file-under-file.tar', tar_bytes(ok + [('ok.txt/inner.txt', b'x')]))
    # libarchive reads '\\' in a zip name as '/' (what Windows zip tools
    # write), so in a zip "..\\" is a '..' segment; a tar name keeps it.
    out('zip-backslash-dotdot.zip', zip_bytes(ok + [('..\\evil.txt', b'x')]))
    out('tar-backslash.tar', tar_bytes(ok + [('dir\\evil.txt', b'x')]))
    z = zip_bytes(ok + [('badXY.txt', b'x')])
    out('zip-bad-utf8.zip', z.replace(b'badXY.txt', b'bad\xff\xfe.txt'))
    out('tar-bad-utf8.tar', tar_bytes(ok + [('bad\udcff\udcfe.txt', b'x')], fmt=tarfile.GNU_FORMAT))
    out('zip-control-char.zip', zip_bytes(ok + [('bell\x07.txt', b'x')]))
    # Damaged and not archives.
    good_zip = zip_bytes(GOOD)
    out('truncated.zip', good_zip[: len(good_zip) // 2])
    out('truncated.tar.gz', gz(good_tar)[:-100])
    corrupt = bytearray(good_zip)
    for i in range(60, 260):
        corrupt[i] ^= 0x5a
    out('corrupt.zip', bytes(corrupt))
    out('not-an-archive.txt', b'This is a plain text file, not an archive.\n' * 20)
    out('empty-file.bin', b'')


if __name__ == '__main__':
    main()
