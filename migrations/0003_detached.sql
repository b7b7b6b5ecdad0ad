-- 0003_detached: VMs the detached driver runs (issue 12). Their start is
-- vm.argv, a command that returns once the hypervisor runs the VM (vmrun
-- start, virsh start, VBoxManage startvm, a daemonized QEMU); what tells
-- whether it lives, and how to stop, kill, suspend and resume it, is here.
-- Every command is a JSON array of strings (an argv, never a shell line);
-- NULL: the VM has none. vm.driver (0001) says which driver runs a VM.
ALTER TABLE vm ADD COLUMN pid_file TEXT;          -- the VM's pid, once started
ALTER TABLE vm ADD COLUMN status_cmd TEXT
    CHECK (status_cmd IS NULL OR (json_valid(status_cmd)
        AND json_type(status_cmd) = 'array'
        AND json_array_length(status_cmd) > 0));
ALTER TABLE vm ADD COLUMN status_interval_ms INTEGER NOT NULL DEFAULT 5000;
-- "STATE=PATTERN" rules, first match wins; []: exit 0 is running
ALTER TABLE vm ADD COLUMN status_map TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(status_map) AND json_type(status_map) = 'array');
ALTER TABLE vm ADD COLUMN stop_cmd TEXT
    CHECK (stop_cmd IS NULL OR (json_valid(stop_cmd)
        AND json_type(stop_cmd) = 'array'
        AND json_array_length(stop_cmd) > 0));
ALTER TABLE vm ADD COLUMN kill_cmd TEXT
    CHECK (kill_cmd IS NULL OR (json_valid(kill_cmd)
        AND json_type(kill_cmd) = 'array'
        AND json_array_length(kill_cmd) > 0));
ALTER TABLE vm ADD COLUMN suspend_cmd TEXT
    CHECK (suspend_cmd IS NULL OR (json_valid(suspend_cmd)
        AND json_type(suspend_cmd) = 'array'
        AND json_array_length(suspend_cmd) > 0));
ALTER TABLE vm ADD COLUMN resume_cmd TEXT
    CHECK (resume_cmd IS NULL OR (json_valid(resume_cmd)
        AND json_type(resume_cmd) = 'array'
        AND json_array_length(resume_cmd) > 0));
ALTER TABLE vm ADD COLUMN cmd_timeout_ms INTEGER NOT NULL DEFAULT 120000;
-- A detached VM may run with no pid known (vmrun, VBoxManage): its open
-- run is kept by run_id alone, so vm_state.pid may be NULL while it runs.
