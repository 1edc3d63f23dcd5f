"""Training mode (tập huấn): a station of its own, a simulated province on loopback, and
fictional citizens, so clerks practise on the real program without making real dossier
codes or real queue items.

Everything lives in a training folder beside the station's data directory (never inside
it): the training station's database, blobs and secrets (its own data key and token, in
files, never the OS key store), the simulated province's database, the trainer's schedule
and checklist. This is the only core package that imports ``provincial_gateway``: it runs
the province the training station syncs with."""
