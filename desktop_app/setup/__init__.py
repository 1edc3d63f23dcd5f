"""Technician work on a counter PC: reading, checking and applying a provisioning plan,
the first-run wizard's checks, settings left by earlier versions, the doctor and the
support bundle. Above the services: it uses them, none of them imports it."""
