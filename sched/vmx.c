/*
 * vmx.c: the settings a VMware .vmx file needs for a VM that runs
 * unattended under vmsched. Parses the `key = "value"` format from a buffer
 * the caller read, finds what is missing or wrong (msg.autoAnswer, the
 * signal.* keys that match the VM's stop and suspend signals, keys defined
 * twice), and computes the fixed text. Pure: no I/O, no clock; the command
 * (tools/cmd-vmx-check.c) reads and writes the file.
 *
 * The format, as this parser takes it (one entry per line):
 *   - lines end in "\n" or "\r\n"; a UTF-8 byte order mark may open line 1;
 *   - blank lines, and lines whose first non-blank byte is '#', are kept
 *     as they are;
 *   - KEY [blanks] = [blanks] VALUE [blanks] [# comment], where blanks are
 *     spaces and tabs, KEY is printable ASCII other than '=', '"' and '#',
 *     and VALUE is "quoted" (any bytes but '"' and NUL; VMware encodes a
 *     quote inside as |22) or a bare word (no blanks, no '"');
 *   - keys are case-insensitive, as VMware reads them; values are compared
 *     byte for byte, except that the required keys take TRUE in any case.
 * Anything else (a NUL byte, a stray '\r', no '=', no value, an unclosed
 * quote, text after the value) makes the line unparseable, named by number.
 *
 * What the fix does, and why:
 *   - a required key with another value gets "TRUE" in place of its value;
 *     the key's spelling, the spacing and a trailing comment stay;
 *   - a required key that is missing is appended at the end, in the file's
 *     line-ending style (a missing final newline is added first);
 *   - a key defined more than once: the later lines are deleted only when
 *     every definition has the same value (so the file means the same
 *     whichever one VMware honours), or when the key is a required one (its
 *     first line is then set to "TRUE", so the result is the one we need).
 *     Definitions that disagree are reported and left for the operator: we
 *     cannot know which value was meant;
 *   - nothing else is touched, byte for byte.
 * Applied to its own output the fix changes nothing, and the fixed text has
 * no fixable finding left.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

#define UTF8_BOM	"\xef\xbb\xbf"

enum line_kind {
	LINE_BLANK,	/* empty, blanks only, or a comment */
	LINE_ENTRY,	/* key = value */
	LINE_BAD,	/* does not parse: l_why says why */
};

enum line_fix {
	FIX_KEEP,	/* copied as it is */
	FIX_SET,	/* the value becomes "TRUE" */
	FIX_DROP,	/* deleted (a later definition of a key) */
};

/* One line of the file; offsets are into vx_buf. */
struct vmx_line {
	enum line_kind	 l_kind;
	enum line_fix	 l_fix;
	size_t		 l_off;		/* first byte of the line */
	size_t		 l_len;		/* bytes before the line ending */
	size_t		 l_eol;		/* 0, 1 ("\n") or 2 ("\r\n") */
	size_t		 l_key;		/* the key ... */
	size_t		 l_keylen;
	size_t		 l_tok;		/* the value as written, quotes too */
	size_t		 l_toklen;
	size_t		 l_val;		/* the value without its quotes */
	size_t		 l_vallen;
	const char	*l_why;		/* LINE_BAD: what is wrong */
};

/* A key the VM needs set to TRUE, and when it needs it. */
struct required {
	const char	*r_key;
	int		 r_signal;	/* needed when this signal ... */
	int		 r_suspend;	/* ... is the suspend (1) or stop (0) one */
	const char	*r_why;		/* for the operator */
};

static const struct required required[] = {
	{ "msg.autoAnswer", 0, 0,
	    "an unattended VM can hang on a question nobody answers" },
	{ "signal.powerOffOnTERM", SIGTERM, 0,
	    "vmsched stops this VM with SIGTERM" },
	{ "signal.suspendOnHUP", SIGHUP, 1,
	    "vmsched suspends this VM with SIGHUP" },
};
#define NREQUIRED	(sizeof(required) / sizeof(required[0]))
_Static_assert(NREQUIRED == VMX_NREQUIRED, "sched.h: VMX_NREQUIRED");

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
keychar(char c)
{
	return c > 0x20 && c < 0x7f && c != '=' && c != '"' && c != '#';
}

static int
wordchar(char c)
{
	return (unsigned char)c > 0x20 && c != 0x7f && c != '"';
}

/* Parse the bytes p[from..l->l_len) of line l (p is the line's start). */
static void
line_parse(struct vmx_line *l, const char *p, size_t from)
{
	size_t i = from, n = l->l_len, close;
	const char *q;

	l->l_kind = LINE_BAD;
	if (memchr(p, '\0', n) != NULL) {
		l->l_why = "NUL byte in the line";
		return;
	}
	while (i < n && blank(p[i]))
		i++;
	if (i == n || p[i] == '#') {
		l->l_kind = LINE_BLANK;
		return;
	}
	l->l_key = l->l_off + i;
	while (i < n && keychar(p[i]))
		i++;
	if ((l->l_keylen = l->l_off + i - l->l_key) == 0) {
		l->l_why = "expected a line of the form key = \"value\"";
		return;
	}
	while (i < n && blank(p[i]))
		i++;
	if (i == n || p[i] != '=') {
		l->l_why = "expected '=' after the key";
		return;
	}
	i++;
	while (i < n && blank(p[i]))
		i++;
	if (i == n || p[i] == '#') {
		l->l_why = "no value after '='";
		return;
	}
	l->l_tok = l->l_off + i;
	if (p[i] == '"') {
		if ((q = memchr(p + i + 1, '"', n - i - 1)) == NULL) {
			l->l_why = "unterminated quoted value (no closing '\"')";
			return;
		}
		close = (size_t)(q - p);
		l->l_val = l->l_off + i + 1;
		l->l_vallen = close - i - 1;
		i = close + 1;
	} else {
		while (i < n && wordchar(p[i]))
			i++;
		l->l_val = l->l_tok;
		l->l_vallen = l->l_off + i - l->l_tok;
	}
	l->l_toklen = l->l_off + i - l->l_tok;
	while (i < n && blank(p[i]))
		i++;
	if (i < n && p[i] != '#') {
		l->l_why = "unexpected text after the value";
		return;
	}
	l->l_kind = LINE_ENTRY;
	l->l_why = NULL;
}

int
vmx_parse(struct vmx *vx, const char *buf, size_t len)
{
	struct vmx_line *l, *nl;
	size_t off = 0, cap = 0, end;
	const char *nlp;

	memset(vx, 0, sizeof(*vx));
	vx->vx_buf = buf;
	vx->vx_len = len;
	while (off < len) {
		if (vx->vx_nlines == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nl = reallocarray(vx->vx_lines, cap,
			    sizeof(*nl))) == NULL)
				goto fail;
			vx->vx_lines = nl;
		}
		l = &vx->vx_lines[vx->vx_nlines++];
		memset(l, 0, sizeof(*l));
		l->l_off = off;
		if ((nlp = memchr(buf + off, '\n', len - off)) == NULL) {
			end = len;
			l->l_eol = 0;
		} else {
			end = (size_t)(nlp - buf);
			l->l_eol = 1;
			if (end > off && buf[end - 1] == '\r') {
				end--;
				l->l_eol = 2;
			}
		}
		l->l_len = end - off;
		line_parse(l, buf + off, off == 0 && len >= 3 &&
		    memcmp(buf, UTF8_BOM, 3) == 0 ? 3 : 0);
		if (l->l_kind == LINE_BAD)
			vx->vx_nbad++;
		off = end + l->l_eol;
	}
	return 0;
fail:
	vmx_free(vx);
	errno = ENOMEM;
	return -1;
}

void
vmx_free(struct vmx *vx)
{
	free(vx->vx_lines);
	free(vx->vx_find);
	memset(vx, 0, sizeof(*vx));
}

static int
key_cmp(const struct vmx *vx, const struct vmx_line *a,
    const struct vmx_line *b)
{
	size_t i, n = a->l_keylen < b->l_keylen ? a->l_keylen : b->l_keylen;
	int ca, cb;

	for (i = 0; i < n; i++) {
		ca = (unsigned char)vx->vx_buf[a->l_key + i];
		cb = (unsigned char)vx->vx_buf[b->l_key + i];
		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return ca - cb;
	}
	return (a->l_keylen > b->l_keylen) - (a->l_keylen < b->l_keylen);
}

static int
key_is(const struct vmx *vx, const struct vmx_line *l, const char *key)
{
	return l->l_keylen == strlen(key) &&
	    strncasecmp(vx->vx_buf + l->l_key, key, l->l_keylen) == 0;
}

static int
val_eq(const struct vmx *vx, const struct vmx_line *a,
    const struct vmx_line *b)
{
	return a->l_vallen == b->l_vallen && memcmp(vx->vx_buf + a->l_val,
	    vx->vx_buf + b->l_val, a->l_vallen) == 0;
}

static int
val_true(const struct vmx *vx, const struct vmx_line *l)
{
	return l->l_vallen == 4 &&
	    strncasecmp(vx->vx_buf + l->l_val, "TRUE", 4) == 0;
}

/* qsort_r is not C11: sort line indices with the buffer in a struct. */
struct sortent {
	const struct vmx	*s_vx;
	size_t			 s_line;
};

static int
sortent_cmp(const void *a, const void *b)
{
	const struct sortent *x = a, *y = b;
	int c;

	c = key_cmp(x->s_vx, &x->s_vx->vx_lines[x->s_line],
	    &x->s_vx->vx_lines[y->s_line]);
	if (c != 0)
		return c;
	return (x->s_line > y->s_line) - (x->s_line < y->s_line);
}

static int
finding_cmp(const void *a, const void *b)
{
	const struct vmx_finding *x = a, *y = b;
	size_t lx = x->vf_line ? x->vf_line : (size_t)-1;
	size_t ly = y->vf_line ? y->vf_line : (size_t)-1;

	if (lx != ly)
		return (lx > ly) - (lx < ly);
	if (x->vf_kind != y->vf_kind)
		return (int)x->vf_kind - (int)y->vf_kind;
	return (x->vf_req > y->vf_req) - (x->vf_req < y->vf_req);
}

static void
add_finding(struct vmx *vx, enum vmx_kind kind, size_t line, size_t first,
    int req, int fixable)
{
	struct vmx_finding *f;

	/* At most one finding per line plus one per required key. */
	f = &vx->vx_find[vx->vx_nfind++];
	f->vf_kind = kind;
	f->vf_line = line;
	f->vf_first = first;
	f->vf_req = req;
	f->vf_fixable = fixable;
	f->vf_why = line ? vx->vx_lines[line - 1].l_why : NULL;
}

/* Which required key (index) line l defines, among the active ones; -1. */
static int
required_of(const struct vmx *vx, const struct vmx_line *l)
{
	size_t r;

	for (r = 0; r < NREQUIRED; r++)
		if (vx->vx_active[r] && key_is(vx, l, required[r].r_key))
			return (int)r;
	return -1;
}

int
vmx_check(struct vmx *vx, int stop_sig, int suspend_sig)
{
	struct sortent *ent = NULL;
	struct vmx_line *l, *first;
	size_t i, j, g, n = 0, r;
	int present[NREQUIRED], req, fixable, same;

	free(vx->vx_find);
	vx->vx_find = NULL;
	vx->vx_nfind = 0;
	for (r = 0; r < NREQUIRED; r++) {
		present[r] = 0;
		vx->vx_active[r] = required[r].r_signal == 0 ||
		    required[r].r_signal ==
		    (required[r].r_suspend ? suspend_sig : stop_sig);
	}
	if ((vx->vx_find = calloc(vx->vx_nlines + NREQUIRED,
	    sizeof(*vx->vx_find))) == NULL)
		goto fail;
	for (i = 0; i < vx->vx_nlines; i++)
		vx->vx_lines[i].l_fix = FIX_KEEP;
	if (vx->vx_nbad > 0) {
		for (i = 0; i < vx->vx_nlines; i++)
			if (vx->vx_lines[i].l_kind == LINE_BAD)
				add_finding(vx, VMX_BADLINE, i + 1, 0, -1, 0);
		vx->vx_checked = 1;
		return 0;
	}

	if ((ent = calloc(vx->vx_nlines + 1, sizeof(*ent))) == NULL)
		goto fail;
	for (i = 0; i < vx->vx_nlines; i++)
		if (vx->vx_lines[i].l_kind == LINE_ENTRY) {
			ent[n].s_vx = vx;
			ent[n++].s_line = i;
		}
	qsort(ent, n, sizeof(*ent), sortent_cmp);

	/* Each run of one key: ent[g..j). */
	for (g = 0; g < n; g = j) {
		first = &vx->vx_lines[ent[g].s_line];
		same = 1;
		for (j = g + 1; j < n && key_cmp(vx, first,
		    &vx->vx_lines[ent[j].s_line]) == 0; j++)
			if (!val_eq(vx, first, &vx->vx_lines[ent[j].s_line]))
				same = 0;
		req = required_of(vx, first);
		fixable = same || req != -1;
		for (i = g + 1; i < j; i++) {
			l = &vx->vx_lines[ent[i].s_line];
			if (fixable)
				l->l_fix = FIX_DROP;
			add_finding(vx, VMX_DUPLICATE, ent[i].s_line + 1,
			    ent[g].s_line + 1, req, fixable);
		}
		if (req == -1)
			continue;
		present[req] = 1;
		if (!val_true(vx, first)) {
			first->l_fix = FIX_SET;
			add_finding(vx, VMX_NOTTRUE, ent[g].s_line + 1, 0,
			    req, 1);
		}
	}
	for (r = 0; r < NREQUIRED; r++)
		if (vx->vx_active[r] && !present[r])
			add_finding(vx, VMX_MISSING, 0, 0, (int)r, 1);
	qsort(vx->vx_find, vx->vx_nfind, sizeof(*vx->vx_find), finding_cmp);
	free(ent);
	vx->vx_checked = 1;
	return 0;
fail:
	free(ent);
	free(vx->vx_find);
	vx->vx_find = NULL;
	vx->vx_nfind = 0;
	errno = ENOMEM;
	return -1;
}

/* A growing output buffer; b_fail once memory ran out. */
struct obuf {
	char	*b_p;
	size_t	 b_len;
	size_t	 b_cap;
	int	 b_fail;
};

static void
obuf_add(struct obuf *b, const char *p, size_t n)
{
	char *np;
	size_t cap;

	if (b->b_fail)
		return;
	if (b->b_len + n + 1 > b->b_cap) {
		cap = b->b_cap ? b->b_cap : 256;
		while (cap < b->b_len + n + 1)
			cap *= 2;
		if ((np = realloc(b->b_p, cap)) == NULL) {
			b->b_fail = 1;
			return;
		}
		b->b_p = np;
		b->b_cap = cap;
	}
	memcpy(b->b_p + b->b_len, p, n);
	b->b_len += n;
	b->b_p[b->b_len] = '\0';
}

int
vmx_fix(const struct vmx *vx, char **out, size_t *outlen)
{
	struct obuf b = { NULL, 0, 0, 0 };
	const struct vmx_line *l;
	const char *buf = vx->vx_buf, *eol, *nlp;
	size_t i, r;

	*out = NULL;
	*outlen = 0;
	if (!vx->vx_checked || vx->vx_nbad > 0) {
		errno = EINVAL;
		return -1;
	}
	obuf_add(&b, "", 0);
	for (i = 0; i < vx->vx_nlines; i++) {
		l = &vx->vx_lines[i];
		switch (l->l_fix) {
		case FIX_KEEP:
			obuf_add(&b, buf + l->l_off, l->l_len + l->l_eol);
			break;
		case FIX_SET:
			obuf_add(&b, buf + l->l_off, l->l_tok - l->l_off);
			obuf_add(&b, "\"TRUE\"", 6);
			obuf_add(&b, buf + l->l_tok + l->l_toklen,
			    l->l_off + l->l_len + l->l_eol -
			    (l->l_tok + l->l_toklen));
			break;
		case FIX_DROP:
			break;
		}
	}
	/* The first line ending of the file sets the style of new lines. */
	nlp = memchr(buf, '\n', vx->vx_len);
	eol = nlp != NULL && nlp > buf && nlp[-1] == '\r' ? "\r\n" : "\n";
	for (i = 0; i < vx->vx_nfind; i++) {
		if (vx->vx_find[i].vf_kind != VMX_MISSING)
			continue;
		if (b.b_len > 0 && b.b_p[b.b_len - 1] != '\n')
			obuf_add(&b, eol, strlen(eol));
		r = (size_t)vx->vx_find[i].vf_req;
		obuf_add(&b, required[r].r_key, strlen(required[r].r_key));
		obuf_add(&b, " = \"TRUE\"", 9);
		obuf_add(&b, eol, strlen(eol));
	}
	if (b.b_fail) {
		free(b.b_p);
		errno = ENOMEM;
		return -1;
	}
	*out = b.b_p;
	*outlen = b.b_len;
	return 0;
}

/* s[0..n) for a message: at most max bytes, unprintables as '?'. */
static void
show(char *dst, size_t len, const char *s, size_t n, size_t max)
{
	size_t i, o = 0;

	for (i = 0; i < n && i < max && o + 1 < len; i++)
		dst[o++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' :
		    s[i];
	if (i < n)
		for (i = 0; i < 3 && o + 1 < len; i++)
			dst[o++] = '.';
	if (len > 0)
		dst[o] = '\0';
}

char *
vmx_describe(const struct vmx *vx, const struct vmx_finding *f, int fixed,
    char *buf, size_t len)
{
	const struct vmx_line *l = NULL, *first = NULL;
	const struct required *rq = f->vf_req >= 0 ?
	    &required[f->vf_req] : NULL;
	char key[96], val[64], fval[64];

	key[0] = val[0] = fval[0] = '\0';
	if (f->vf_line > 0) {
		l = &vx->vx_lines[f->vf_line - 1];
		show(key, sizeof(key), vx->vx_buf + l->l_key, l->l_keylen, 80);
		show(val, sizeof(val), vx->vx_buf + l->l_val, l->l_vallen, 40);
	}
	if (f->vf_first > 0) {
		first = &vx->vx_lines[f->vf_first - 1];
		show(fval, sizeof(fval), vx->vx_buf + first->l_val,
		    first->l_vallen, 40);
	}
	switch (f->vf_kind) {
	case VMX_BADLINE:
		snprintf(buf, len, "%s", f->vf_why);
		break;
	case VMX_MISSING:
		snprintf(buf, len, fixed ? "added %s = \"TRUE\"" :
		    "%s is missing: it must be \"TRUE\" (%s)", rq->r_key,
		    rq->r_why);
		break;
	case VMX_NOTTRUE:
		if (fixed)
			snprintf(buf, len, "set %s = \"TRUE\" (was \"%s\")",
			    key, val);
		else
			snprintf(buf, len, "%s is \"%s\": it must be \"TRUE\" "
			    "(%s)", key, val, rq->r_why);
		break;
	case VMX_DUPLICATE:
		if (fixed)
			snprintf(buf, len, "removed %s = \"%s\", defined "
			    "before on line %zu", key, val, f->vf_first);
		else if (first != NULL && val_eq(vx, l, first))
			snprintf(buf, len, "%s is defined again (first on "
			    "line %zu), with the same value", key,
			    f->vf_first);
		else
			snprintf(buf, len, "%s is defined again (first on "
			    "line %zu) with another value (\"%s\" here, \"%s\" "
			    "there)%s", key, f->vf_first, val, fval,
			    f->vf_fixable ? "" : ": keep one by hand");
		break;
	}
	return buf;
}
