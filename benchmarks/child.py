"""Entry point of a measured child process: `python -m benchmarks.child MODE SPEC_FILE`."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from benchmarks import delta_child, readers, syncer

MODES = {
    "sync": syncer.sync,
    "delta": delta_child.delta,
    "floor": readers.floor,
    "msgraph": readers.msgraph,
}


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    mode, spec_file = argv
    spec = json.loads(Path(spec_file).read_text())
    report = MODES[mode](spec)
    Path(spec["out"]).write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
