-- 0001_initial: the whole store DESIGN.md describes. Times are Unix
-- milliseconds; lists and maps are JSON text built by SQLite's own functions.

-- One row per VM definition.
CREATE TABLE vm (
	id                 INTEGER PRIMARY KEY,
	name               TEXT NOT NULL UNIQUE,
	argv               TEXT NOT NULL          -- JSON array of strings, never a shell line
	    CHECK (json_valid(argv) AND json_type(argv) = 'array'
	        AND json_array_length(argv) > 0),
	cwd                TEXT,                  -- NULL: the daemon's
	env                TEXT NOT NULL DEFAULT '[]'   -- JSON array of "NAME=VALUE"
	    CHECK (json_valid(env) AND json_type(env) = 'array'),
	user               TEXT,                  -- run-as user; NULL: the daemon's
	boot_order         INTEGER NOT NULL DEFAULT 100,
	restart            TEXT NOT NULL DEFAULT 'on-failure'
	    CHECK (restart IN ('always', 'on-failure', 'never')),
	success_codes      TEXT NOT NULL DEFAULT '[0]'  -- JSON array of exit codes
	    CHECK (json_valid(success_codes) AND json_type(success_codes) = 'array'),
	wait_timeout_ms    INTEGER NOT NULL DEFAULT 300000,
	up_delay_ms        INTEGER NOT NULL DEFAULT 0,
	ready_tcp          TEXT,                  -- HOST:PORT that must answer to be up
	stop_signal        INTEGER NOT NULL DEFAULT 15,
	suspend_signal     INTEGER NOT NULL DEFAULT 1,
	stop_timeout_ms    INTEGER NOT NULL DEFAULT 60000,  -- 0: never SIGKILL
	backoff_initial_ms INTEGER NOT NULL DEFAULT 1000,
	backoff_factor     REAL NOT NULL DEFAULT 2.0,
	backoff_max_ms     INTEGER NOT NULL DEFAULT 300000,
	backoff_reset_ms   INTEGER NOT NULL DEFAULT 600000,
	max_failures       INTEGER NOT NULL DEFAULT 10,
	enabled            INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	log_path           TEXT,                  -- NULL: <db dir>/logs/<name>.log
	driver             TEXT NOT NULL DEFAULT 'exec',
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL
);

-- Hard dependencies: vm starts only once after_vm is up.
CREATE TABLE vm_after (
	vm_id    INTEGER NOT NULL REFERENCES vm(id) ON DELETE CASCADE,
	after_id INTEGER NOT NULL REFERENCES vm(id) ON DELETE RESTRICT,
	PRIMARY KEY (vm_id, after_id)
) WITHOUT ROWID;
CREATE INDEX vm_after_after ON vm_after(after_id);

-- Start gates, checked in pos order before every start.
CREATE TABLE vm_gate (
	vm_id INTEGER NOT NULL REFERENCES vm(id) ON DELETE CASCADE,
	pos   INTEGER NOT NULL,
	kind  TEXT NOT NULL CHECK (kind IN ('path', 'cmd', 'tcp')),
	arg   TEXT NOT NULL,
	PRIMARY KEY (vm_id, pos)
) WITHOUT ROWID;

-- One row per run: a start attempt and how it ended, with the decision that
-- followed it. Keyed by the VM's name so history outlives the definition.
CREATE TABLE run (
	id         INTEGER PRIMARY KEY,
	vm         TEXT NOT NULL,
	boot_id    TEXT,
	started_at INTEGER NOT NULL,
	ended_at   INTEGER,               -- NULL: still running (or daemon died)
	pid        INTEGER,
	pid_start  INTEGER,               -- process start time, to tell a recycled pid
	exit_code  INTEGER,
	signal     INTEGER,
	reason     TEXT CHECK (reason IN ('exited', 'crashed', 'stopped',
	    'suspended', 'killed-after-timeout', 'exec-failed', 'gate-timeout',
	    'adopted-unknown')),
	detail     TEXT,                  -- errno text, failing gate, ...
	rule       TEXT,                  -- the rule that decided what followed
	failures   INTEGER,               -- consecutive failures after this run
	delay_ms   INTEGER,               -- backoff chosen; NULL: not restarted
	breaker    INTEGER NOT NULL DEFAULT 0   -- 1: crash-loop breaker tripped
);
CREATE INDEX run_vm_started ON run(vm, started_at);
CREATE INDEX run_started ON run(started_at);
CREATE INDEX run_open ON run(vm) WHERE ended_at IS NULL;

-- Live state per VM, written by the daemon (state) and the CLI (desired).
CREATE TABLE vm_state (
	vm_id         INTEGER PRIMARY KEY REFERENCES vm(id) ON DELETE CASCADE,
	desired       TEXT NOT NULL DEFAULT 'up'
	    CHECK (desired IN ('up', 'down', 'suspended')),
	state         TEXT NOT NULL DEFAULT 'stopped'
	    CHECK (state IN ('disabled', 'stopped', 'waiting', 'starting',
	        'running', 'up', 'backoff', 'failed', 'blocked', 'stopping',
	        'suspending', 'suspended')),
	state_since   INTEGER NOT NULL,
	why           TEXT,               -- what it waits for or is blocked by
	pid           INTEGER,
	pid_start     INTEGER,
	run_id        INTEGER REFERENCES run(id) ON DELETE SET NULL,
	last_run_id   INTEGER REFERENCES run(id) ON DELETE SET NULL, -- last ended
	failures      INTEGER NOT NULL DEFAULT 0,   -- consecutive
	restarts      INTEGER NOT NULL DEFAULT 0,   -- total
	next_start_at INTEGER,            -- backoff deadline
	boot_id       TEXT,               -- boot of the last start
	pending       TEXT                -- a CLI request beyond desired:
	    CHECK (pending IN ('start', 'restart', 'reset')),
	request       INTEGER NOT NULL DEFAULT 0,   -- bumped by each CLI request
	handled       INTEGER NOT NULL DEFAULT 0    -- last request the daemon acted on
);

-- Events outbox: audit and scheduler events, and their webhook delivery.
CREATE TABLE event (
	id              INTEGER PRIMARY KEY,
	time            INTEGER NOT NULL,
	event           TEXT NOT NULL,
	vm              TEXT,
	uid             INTEGER,          -- who caused it (CLI changes)
	detail          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail)),
	status          TEXT NOT NULL DEFAULT 'none'
	    CHECK (status IN ('none', 'pending', 'delivered', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER,
	last_error      TEXT,
	delivered_at    INTEGER
);
CREATE INDEX event_vm_time ON event(vm, time);
CREATE INDEX event_time ON event(time);
CREATE INDEX event_pending ON event(id) WHERE status = 'pending';

-- Key/value settings: webhook.url, webhook.secret, webhook.events, ...
CREATE TABLE setting (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

-- The daemon that owns this database (one row).
CREATE TABLE daemon (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	pid        INTEGER,
	pid_start  INTEGER,
	started_at INTEGER,
	stopped_at INTEGER,
	boot_id    TEXT
);
