"""Entry point of a measured child process: `python -m benchmarks.child MODE SPEC_FILE`."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from benchmarks import delta_child, readers, syncer, usage_collect

MODES = {
    "sync": syncer.sync,
    "delta": delta_child.delta,
    "floor": readers.floor,
    "msgraph": readers.msgraph,
    "usage": usage_collect.usage,
}


def peak_rss_kib() -> int | None:
    """This process image's own high-water mark (VmHWM, Linux): what the work itself needed."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    mode, spec_file = argv
    spec = json.loads(Path(spec_file).read_text())
    report = MODES[mode](spec)
    report["peak_rss_kib"] = peak_rss_kib()
    Path(spec["out"]).write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
