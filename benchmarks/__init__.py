"""licensewatch benchmarks: `python -m benchmarks` runs W1–W5 against emulators in own processes."""
