-- 0002_owed_start: what the daemon owes a VM survives the daemon. A start
-- asked for while the VM was still stopping, or one under way (waiting for
-- its gates), is recorded here by the daemon, so a daemon that starts
-- after a crash still makes it.
ALTER TABLE vm_state ADD COLUMN owed INTEGER NOT NULL DEFAULT 0
    CHECK (owed IN (0, 1));
