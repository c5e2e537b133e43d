"""Exports made to fit Discord's upload limit: a file past it is zipped, and a zip still past it
is split into numbered parts (`name.zip.001`, `.002`, …) that `cat` or 7-Zip joins back."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

# Discord counts the multipart envelope against the limit too; keep this much of it free.
ENVELOPE_BYTES = 64 * 1024
MAX_FILES_PER_MESSAGE = 10

Upload = tuple[str, bytes]


def budget(limit: int) -> int:
    """The bytes of file content one request may carry under `limit`."""
    return max(1, limit - min(ENVELOPE_BYTES, limit // 16))


def zipped(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def fit_attachments(files: Sequence[Upload], limit: int) -> list[Upload]:
    """Each file as it is when it fits, else zipped, else its zip in parts of at most `budget(limit)`."""
    room = budget(limit)
    fitted: list[Upload] = []
    for name, data in files:
        if len(data) <= room:
            fitted.append((name, data))
            continue
        archive = zipped(name, data)
        if len(archive) <= room:
            fitted.append((f"{name}.zip", archive))
            continue
        count = -(-len(archive) // room)
        width = max(3, len(str(count)))
        for index in range(count):
            part = archive[index * room : (index + 1) * room]
            fitted.append((f"{name}.zip.{index + 1:0{width}d}", part))
    return fitted


def batches(files: Sequence[Upload], limit: int) -> list[list[Upload]]:
    """The files grouped into messages: at most ten files and `budget(limit)` bytes each, in order."""
    room = budget(limit)
    groups: list[list[Upload]] = []
    size = 0
    for upload in files:
        if not groups or len(groups[-1]) >= MAX_FILES_PER_MESSAGE or size + len(upload[1]) > room:
            groups.append([])
            size = 0
        groups[-1].append(upload)
        size += len(upload[1])
    return groups
