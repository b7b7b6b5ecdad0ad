/*
 * cmd-vmx-check.c: vmsched vmx-check FILE.vmx [--fix] [--vm NAME] checks
 * the settings a VMware VM needs to run unattended (sched/vmx.c decides
 * what they are) and, with --fix, repairs the file in place.
 *
 * Findings go to stdout as "FILE:LINE: what"; exit 0 when there are none,
 * 1 when there are, 65 when a line does not parse (each one named on
 * stderr), 66 when the file or the VM does not exist. The stop and suspend
 * signals are TERM and HUP, or those of the VM named with --vm.
 *
 * --fix writes the fixed text to a temporary file beside FILE (same mode
 * and owner), the original bytes to another, fsyncs both, renames them to
 * FILE.bak and FILE, and fsyncs the directory: FILE is always either the
 * old or the new text. When there is nothing it can fix it writes
 * nothing, so a second --fix leaves FILE and FILE.bak alone. It exits 0
 * when the file is clean afterwards, 1 when findings it may not fix
 * (keys defined twice with different values) remain.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define VMX_MAX_BYTES	(16 * 1024 * 1024)	/* a .vmx is a few KiB */

/* The options. */
struct vmxopts {
	int		 o_fix;		/* --fix */
	const char	*o_vm;		/* --vm NAME, or NULL */
};

static int
vmx_opt(int opt, const char *arg, void *o)
{
	struct vmxopts *vo = o;
	const char *why;

	switch (opt) {
	case 'f':
		vo->o_fix = 1;
		break;
	case 'v':
		if (value_name(arg, &why) == -1)
			return cli_err(EX_USAGE, "vmx-check: --vm %s: %s", arg,
			    why);
		vo->o_vm = arg;
		break;
	}
	return 0;
}

/* Read the whole file; *buf malloc'ed. 0, or the exit code after saying. */
static int
read_file(const char *path, char **buf, size_t *len, struct stat *st)
{
	char *p = NULL;
	size_t n = 0;
	ssize_t r;
	int fd, rc;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return cli_err(EX_NOINPUT, "%s: %s", path, strerror(errno));
	if (fstat(fd, st) == -1) {
		rc = cli_err(EX_IOERR, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st->st_mode)) {
		rc = cli_err(EX_NOINPUT, "%s: not a regular file", path);
		goto out;
	}
	if (st->st_size > VMX_MAX_BYTES) {
		rc = cli_err(EX_DATAERR, "%s: too large for a .vmx file (%lld "
		    "bytes)", path, (long long)st->st_size);
		goto out;
	}
	/* One byte more than the size, to notice a file that grew. */
	if ((p = malloc((size_t)st->st_size + 1)) == NULL) {
		rc = cli_err(EX_OSERR, "%s: out of memory", path);
		goto out;
	}
	while (n <= (size_t)st->st_size &&
	    (r = read(fd, p + n, (size_t)st->st_size + 1 - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			rc = cli_err(EX_IOERR, "%s: %s", path, strerror(errno));
			goto out;
		}
		n += (size_t)r;
	}
	if (n != (size_t)st->st_size) {
		rc = cli_err(EX_TEMPFAIL, "%s: changed while being read",
		    path);
		goto out;
	}
	*buf = p;
	*len = n;
	p = NULL;
	rc = 0;
out:
	free(p);
	close(fd);
	return rc;
}

/*
 * Write buf to a new temporary file in dir with the mode and owner of st,
 * and fsync it; its name goes to tmp. 0, or the exit code after saying.
 */
static int
write_temp(const char *dir, const char *base, const char *buf, size_t len,
    const struct stat *st, char *tmp, size_t tmplen)
{
	const char *what = "cannot write a temporary file";
	size_t off = 0;
	ssize_t w;
	int fd;

	if ((size_t)snprintf(tmp, tmplen, "%s/.%s.vmsched-XXXXXX", dir,
	    base) >= tmplen)
		return cli_err(EX_CANTCREAT, "%s/%s: path too long", dir, base);
	if ((fd = mkstemp(tmp)) == -1) {
		tmp[0] = '\0';
		return cli_err(EX_CANTCREAT, "%s: cannot create a temporary "
		    "file: %s", dir, strerror(errno));
	}
	while (off < len) {
		if ((w = write(fd, buf + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	what = "cannot give it the owner and mode of the file";
	if ((st->st_uid != geteuid() || st->st_gid != getegid()) &&
	    fchown(fd, st->st_uid, st->st_gid) == -1)
		goto fail;
	if (fchmod(fd, st->st_mode & 07777) == -1)
		goto fail;
	what = "cannot write a temporary file";
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	cli_err(0, "%s: %s: %s", tmp, what, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	tmp[0] = '\0';
	return EX_IOERR;
}

/*
 * Replace the file name (or, if it is a symlink, its target) with text,
 * keeping the old bytes in a .bak beside it, whose name goes to shown;
 * both are written whole and fsynced before either is renamed.
 */
static int
replace_file(const char *name, const struct stat *st,
    const char *old, size_t oldlen, const char *text, size_t len,
    char *shown, size_t shownlen)
{
	char real[PATH_MAX], dcopy[PATH_MAX], bcopy[PATH_MAX], bak[PATH_MAX];
	char tnew[PATH_MAX], tbak[PATH_MAX];
	const char *dir, *base;
	struct stat lst;
	int rc, dfd;

	tnew[0] = tbak[0] = '\0';
	if (realpath(name, real) == NULL)
		return cli_err(EX_NOINPUT, "%s: %s", name, strerror(errno));
	if ((size_t)snprintf(bak, sizeof(bak), "%s.bak", real) >= sizeof(bak))
		return cli_err(EX_CANTCREAT, "%s.bak: path too long", name);
	if (lstat(name, &lst) == 0 && S_ISLNK(lst.st_mode))
		snprintf(shown, shownlen, "%s", bak);
	else
		snprintf(shown, shownlen, "%s.bak", name);
	memcpy(dcopy, real, sizeof(real));
	memcpy(bcopy, real, sizeof(real));
	dir = dirname(dcopy);
	base = basename(bcopy);
	if ((rc = write_temp(dir, base, old, oldlen, st, tbak,
	    sizeof(tbak))) != 0 ||
	    (rc = write_temp(dir, base, text, len, st, tnew,
	    sizeof(tnew))) != 0)
		goto fail;
	if (rename(tbak, bak) == -1) {
		rc = cli_err(EX_IOERR, "%s: %s", shown, strerror(errno));
		goto fail;
	}
	tbak[0] = '\0';
	if (rename(tnew, real) == -1) {
		rc = cli_err(EX_IOERR, "%s: %s", name, strerror(errno));
		goto fail;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1) {
		rc = cli_err(EX_IOERR, "%s: %s (the file is replaced, but "
		    "may not be on disk yet)", dir, strerror(errno));
		if (dfd != -1)
			close(dfd);
		return rc;
	}
	close(dfd);
	return 0;
fail:
	if (tbak[0] != '\0')
		unlink(tbak);
	if (tnew[0] != '\0')
		unlink(tnew);
	return rc;
}

/* Print the findings (fixed: only those fixed, as what was done). */
static size_t
report(const char *name, const struct vmx *vx, int fixed)
{
	const struct vmx_finding *f;
	char why[512], shown[2048], file[PATH_MAX * 2];
	size_t i, n = 0;

	/* Values quoted from the file are the file's bytes: escaped. */
	text_shown(name, file, sizeof(file));
	for (i = 0; i < vx->vx_nfind; i++) {
		f = &vx->vx_find[i];
		if (fixed && !f->vf_fixable)
			continue;
		vmx_describe(vx, f, fixed, why, sizeof(why));
		text_shown(why, shown, sizeof(shown));
		if (f->vf_line > 0)
			printf("%s:%zu: %s\n", file, f->vf_line, shown);
		else
			printf("%s: %s\n", file, shown);
		n++;
	}
	return n;
}

size_t
vmx_warnings(const char *what, const char *file, int stop, int suspend)
{
	struct vmx vx;
	struct stat st;
	char *buf = NULL, why[512], shown[2048], name[PATH_MAX * 2];
	size_t len = 0, i, n = 0;
	const struct vmx_finding *f;

	memset(&vx, 0, sizeof(vx));
	text_shown(file, name, sizeof(name));
	if (read_file(file, &buf, &len, &st) != 0) {
		cli_err(0, "%s: %s: not checked (a warning: the VM cannot "
		    "start without it)", what, name);
		return 1;
	}
	if (vmx_parse(&vx, buf, len) == 0 && vmx_check(&vx, stop,
	    suspend) == 0) {
		for (i = 0; i < vx.vx_nfind; i++) {
			f = &vx.vx_find[i];
			vmx_describe(&vx, f, 0, why, sizeof(why));
			text_shown(why, shown, sizeof(shown));
			if (f->vf_line > 0)
				cli_err(0, "%s: %s:%zu: %s (a warning; vmsched "
				    "vmx-check --fix repairs what it can)", what,
				    name, f->vf_line, shown);
			else
				cli_err(0, "%s: %s: %s (a warning; vmsched "
				    "vmx-check --fix repairs what it can)", what,
				    name, shown);
			n++;
		}
	}
	vmx_free(&vx);
	free(buf);
	return n;
}

static int
vmx_check_cmd(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	struct vmxopts vo = { 0, NULL };
	struct vm_def vd;
	struct vmx vx;
	struct stat st;
	const char *file = NULL;
	char *buf = NULL, *text = NULL, bak[PATH_MAX];
	char shown[PATH_MAX * 4];
	size_t i, len = 0, textlen = 0, nfix = 0, nleft = 0;
	int rc, base = 0, next, dd = 0, nops = 0, stop = SIGTERM;
	int suspend = SIGHUP;

	/* Options may come before and after FILE (its usage puts them after). */
	for (;;) {
		if ((rc = cli_getopt(self, NULL, argc - base, argv + base,
		    vmx_opt, &vo, &next, &dd)) != 0)
			return rc;
		base += next;
		if (base >= argc)
			break;
		if (dd) {
			nops += argc - base;
			file = argv[base];
			break;
		}
		nops++;
		file = argv[base];
	}
	if (nops != 1) {
		cli_err(0, "vmx-check: %s", nops == 0 ? "which .vmx file?" :
		    "one .vmx file at a time");
		return cli_usage(self);
	}

	memset(&vx, 0, sizeof(vx));
	if ((rc = read_file(file, &buf, &len, &st)) != 0)
		return rc;
	if (vmx_parse(&vx, buf, len) == -1 ||
	    vmx_check(&vx, stop, suspend) == -1) {
		rc = cli_err(EX_OSERR, "%s: %s", file, strerror(errno));
		goto out;
	}
	if (vx.vx_nbad > 0) {
		for (i = 0; i < vx.vx_nfind; i++)
			cli_err(0, "%s:%zu: %s", file, vx.vx_find[i].vf_line,
			    vx.vx_find[i].vf_why);
		rc = EX_DATAERR;
		goto out;
	}
	if (vo.o_vm != NULL) {
		if ((rc = cli_open_read(cli)) != 0)
			goto out;
		vm_def_init(&vd);
		rc = db_vm_get(&cli->c_db, vo.o_vm, &vd);
		stop = vd.vd_stop_signal;
		suspend = vd.vd_suspend_signal;
		vm_def_free(&vd);
		if (rc != DB_OK) {
			rc = cli_dberr(cli, rc);
			goto out;
		}
		if (vmx_check(&vx, stop, suspend) == -1) {
			rc = cli_err(EX_OSERR, "%s: %s", file, strerror(errno));
			goto out;
		}
	}
	for (i = 0; i < vx.vx_nfind; i++)
		if (vx.vx_find[i].vf_fixable)
			nfix++;
		else
			nleft++;

	if (!vo.o_fix || nfix == 0) {
		rc = report(file, &vx, 0) > 0;
		goto out;
	}
	if (vmx_fix(&vx, &text, &textlen) == -1) {
		rc = cli_err(EX_SOFTWARE, "%s: cannot fix: %s", file,
		    strerror(errno));
		goto out;
	}
	if ((rc = replace_file(file, &st, buf, len, text, textlen, bak,
	    sizeof(bak))) != 0)
		goto out;
	report(file, &vx, 1);
	printf("%s: fixed %zu finding%s; ", text_shown(file, shown,
	    sizeof(shown)), nfix, nfix == 1 ? "" : "s");
	printf("the original is in %s\n", text_shown(bak, shown,
	    sizeof(shown)));
	rc = 0;
	if (nleft > 0) {
		/* What is left, with the line numbers of the new text. */
		vmx_free(&vx);
		if (vmx_parse(&vx, text, textlen) == -1 ||
		    vmx_check(&vx, stop, suspend) == -1) {
			rc = cli_err(EX_OSERR, "%s: %s", file, strerror(errno));
			goto out;
		}
		rc = report(file, &vx, 0) > 0;
	}
out:
	vmx_free(&vx);
	free(text);
	free(buf);
	return rc;
}

static const struct cli_opt vmx_check_opts[] = {
	{ "fix", 'f', CV_NONE, NULL, NULL, NULL, 0 },
	{ "vm", 'v', CV_VM, "NAME", NULL, NULL, 0 },
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
};

const struct cmd cmd_vmx_check = {
	"vmx-check", "FILE.vmx [--fix] [--vm NAME]",
	"check (and --fix) the .vmx settings an unattended VM needs",
	1, 1, vmx_check_cmd, .cmd_opts = vmx_check_opts, .cmd_operand = CV_FILE,
};
