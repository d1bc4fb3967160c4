"""`recon gate`: the CI gate on a roster update.

The gate runs the whole pipeline, then compares its findings and the roster
with a baseline (the output folder of the last accepted run, or the same files
at a git revision) and decides whether the update *introduces* a blocking
problem. Logic and rendering are kept apart:

- `keys`: the HMAC key, and keyed tags (a My Number never needs one: none
  survives normalization, see `recon.normalize`);
- `baseline`: finding identities and roster fingerprints, written to and read
  from `baseline.json`;
- `waivers`: accepted exceptions with an expiry date;
- `compare`: new / still open / resolved findings, the verdict, the roster diff;
- `gitref`: the inputs as they were at a git revision;
- `ci`: JUnit XML, GitHub Actions annotations and the Markdown summary;
- `flow`: the command's steps in order (`recon/commands/gate.py` stays thin).
"""
