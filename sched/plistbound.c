/*
 * plistbound.c: how big a property list may be, judged before libplist
 * builds anything from it. libplist 2.2 parses binary plists and frees
 * every tree by recursion (200,000 nested arrays blow the stack), expands
 * each reference to a shared binary object into a copy of its own (a few
 * kilobytes can stand for gigabytes), cuts binary strings at a NUL byte
 * without saying so, and unescapes XML character references with a memmove
 * each (quadratic in a long string). launchd_bounds walks the bytes the
 * way libplist will, without recursion or allocation, and refuses a file
 * whose tree would break one of the limits in sched.h, naming it.
 *
 * The XML walk follows libplist's own tokenizer (xplist.c: tags, comments,
 * processing instructions, DOCTYPE, CDATA, quotes) step by step, so the
 * nesting it counts is the nesting libplist will build; where libplist
 * would give up on the file, so does the walk. The binary walk follows
 * bplist.c: the trailer, the offset table, and every object reference,
 * counted as often as it is used, as libplist copies it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sched.h"

#define DAMAGED	"not a property list (XML or binary), or a damaged one"
/* Byte moves libplist may spend unescaping &...; in XML strings. */
#define UNESCAPE_MAX	(1LL << 30)

/* A walk in progress: the limits' counts, and why it stopped. */
struct walk {
	long long	 w_values;	/* keys and values so far */
	long long	 w_bytes;	/* string and data bytes, each copy */
	long long	 w_unescape;	/* XML: unescaping cost so far */
	char		*w_why;
	size_t		 w_whylen;
};

static int
refuse(struct walk *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
refuse(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->w_why, w->w_whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
too_deep(struct walk *w)
{
	return refuse(w, "nested more than %d deep (arrays and dictionaries "
	    "inside each other); no launchd job needs that", LAUNCHD_DEPTH_MAX);
}

/* One more key or value; -1 past the limit. */
static int
value(struct walk *w)
{
	if (++w->w_values > LAUNCHD_VALUES_MAX)
		return refuse(w, "holds more than %d keys and values; no "
		    "launchd job needs that many", LAUNCHD_VALUES_MAX);
	return 0;
}

/* n more bytes of strings or data in the tree; -1 past the limit. */
static int
bytes(struct walk *w, unsigned long long n)
{
	if (n > LAUNCHD_SIZE_MAX ||
	    (w->w_bytes += (long long)n) > LAUNCHD_SIZE_MAX)
		return refuse(w, "its strings and data come to more than %d "
		    "MiB, counting each use of a shared object; no launchd job "
		    "is that large", LAUNCHD_SIZE_MAX / (1024 * 1024));
	return 0;
}

/*
 * XML, as xplist.c reads it. The cursor is an index into the buffer; each
 * helper below is the function of the same name in xplist.c.
 */
struct xml {
	const char	*x_buf;
	size_t		 x_len;
	size_t		 x_pos;
};

static int
at_end(const struct xml *x)
{
	return x->x_pos >= x->x_len;
}

static void
skip_ws(struct xml *x)
{
	while (!at_end(x) && strchr(" \t\r\n", x->x_buf[x->x_pos]) != NULL)
		x->x_pos++;
}

static void
find_char(struct xml *x, char c, int skip_quotes)
{
	while (!at_end(x) && x->x_buf[x->x_pos] != c) {
		if (skip_quotes && c != '"' && x->x_buf[x->x_pos] == '"') {
			x->x_pos++;
			find_char(x, '"', 0);	/* one level: it skips none */
			if (at_end(x))
				return;
		}
		x->x_pos++;
	}
}

/* Whether s (len bytes) is at the cursor, inside the buffer. */
static int
looking_at(const struct xml *x, const char *s, size_t len)
{
	return x->x_pos + len <= x->x_len &&
	    memcmp(x->x_buf + x->x_pos, s, len) == 0;
}

static void
find_str(struct xml *x, const char *s, size_t len, int skip_quotes)
{
	while (x->x_pos + len < x->x_len) {
		if (looking_at(x, s, len))
			break;
		if (skip_quotes && x->x_buf[x->x_pos] == '"') {
			x->x_pos++;
			find_char(x, '"', 0);
			if (at_end(x))
				return;
		}
		x->x_pos++;
	}
}

static void
find_next(struct xml *x, const char *chars, int skip_quotes)
{
	while (!at_end(x)) {
		if (skip_quotes && x->x_buf[x->x_pos] == '"') {
			x->x_pos++;
			find_char(x, '"', 0);
			if (at_end(x))
				return;
		}
		if (strchr(chars, x->x_buf[x->x_pos]) != NULL)
			return;
		x->x_pos++;
	}
}

/* What unescaping text[from..to) costs: a memmove per '&'. */
static int
unescape_cost(struct walk *w, const struct xml *x, size_t from, size_t to)
{
	long long amps = 0;
	size_t i;

	for (i = from; i < to; i++)
		amps += x->x_buf[i] == '&';
	if (amps == 0)
		return 0;
	w->w_unescape += amps * (long long)(to - from);
	if (w->w_unescape > UNESCAPE_MAX)
		return refuse(w, "a string holds too many character "
		    "references (&...;) for its length; write the characters "
		    "themselves");
	return 0;
}

/*
 * The text of an element up to its closing tag (get_text_parts): comments
 * and CDATA sections may come between its parts. 0, or -1 if libplist
 * would give up (why set to DAMAGED) or unescaping costs too much.
 */
static int
text(struct walk *w, struct xml *x, const char *tag, size_t taglen,
    int skip, int unescape)
{
	size_t from;

	if (skip)
		skip_ws(x);
	for (;;) {
		from = x->x_pos;
		find_char(x, '<', 0);
		if (at_end(x))
			return refuse(w, DAMAGED);
		if (unescape && unescape_cost(w, x, from, x->x_pos) == -1)
			return -1;
		if (++x->x_pos >= x->x_len)
			return refuse(w, DAMAGED);
		if (x->x_buf[x->x_pos] == '/')
			break;
		if (x->x_buf[x->x_pos] != '!')
			return refuse(w, DAMAGED);
		if (++x->x_pos + 1 >= x->x_len)
			return refuse(w, DAMAGED);
		if (looking_at(x, "--", 2)) {
			x->x_pos += 2;
			find_str(x, "-->", 3, 0);
			if (!looking_at(x, "-->", 3))
				return refuse(w, DAMAGED);
			x->x_pos += 3;
		} else if (x->x_buf[x->x_pos] == '[') {
			if (++x->x_pos + 8 >= x->x_len ||
			    !looking_at(x, "CDATA[", 6))
				return refuse(w, DAMAGED);
			x->x_pos += 6;
			find_str(x, "]]>", 3, 0);
			if (!looking_at(x, "]]>", 3))
				return refuse(w, DAMAGED);
			x->x_pos += 3;
		} else
			return refuse(w, DAMAGED);
	}
	x->x_pos++;
	if (x->x_pos + taglen >= x->x_len || !looking_at(x, tag, taglen))
		return refuse(w, DAMAGED);
	x->x_pos += taglen;
	skip_ws(x);
	if (at_end(x) || x->x_buf[x->x_pos] != '>')
		return refuse(w, DAMAGED);
	x->x_pos++;
	return 0;
}

/* Whether the tag name t (len bytes) is name. */
static int
is(const char *t, size_t len, const char *name)
{
	return len == strlen(name) && memcmp(t, name, len) == 0;
}

/* The rest of a value that is not a container: 0, or -1 refused. */
static int
leaf(struct walk *w, struct xml *x, const char *tag, size_t taglen,
    int empty)
{
	static const char *const plain[] = {
		"integer", "real", "data", "date", "true", "false",
	};
	size_t i;

	if (is(tag, taglen, "string") || is(tag, taglen, "key"))
		return empty ? 0 : text(w, x, tag, taglen, 0, 1);
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (is(tag, taglen, plain[i]))
			return empty ? 0 : text(w, x, tag, taglen, 1, 0);
	return refuse(w, DAMAGED);
}

/* <?...?>, <!-- -->, <!DOCTYPE ...>: 0 skipped, -1 libplist gives up. */
static int
special(struct walk *w, struct xml *x)
{
	if (x->x_buf[x->x_pos] == '?') {
		find_str(x, "?>", 2, 1);
		if (!looking_at(x, "?>", 2))
			return refuse(w, DAMAGED);
		x->x_pos += 2;
		return 0;
	}
	if (x->x_len - x->x_pos > 3 && looking_at(x, "!--", 3)) {
		x->x_pos += 3;
		find_str(x, "-->", 3, 0);
		if (!looking_at(x, "-->", 3))
			return refuse(w, DAMAGED);
		x->x_pos += 3;
		return 0;
	}
	if (x->x_len - x->x_pos > 8 && looking_at(x, "!DOCTYPE", 8)) {
		x->x_pos += 8;
		while (!at_end(x)) {
			find_next(x, " \t\r\n[>", 1);
			if (at_end(x))
				return refuse(w, DAMAGED);
			if (x->x_buf[x->x_pos] == '[') {
				find_str(x, "]>", 2, 1);
				if (!looking_at(x, "]>", 2))
					return refuse(w, DAMAGED);
				x->x_pos += 2;
				return 0;
			}
			if (x->x_buf[x->x_pos] == '>') {
				x->x_pos++;
				return 0;
			}
			skip_ws(x);
		}
		return 0;
	}
	return refuse(w, DAMAGED);
}

/* What xplist.c keeps open (its node_path): a <plist>, then containers. */
enum open { OPEN_PLIST, OPEN_ARRAY, OPEN_DICT };

/*
 * node_from_xml's loop. level is the depth of the node new ones are added
 * to (its parent), which is what nests; it runs apart from the stack of
 * open tags, as in xplist.c, where an empty root (<dict/>) becomes the
 * parent without being opened.
 */
static int
xml(struct walk *w, const char *buf, size_t len)
{
	enum open stack[LAUNCHD_DEPTH_MAX + 2];
	struct xml x = { buf, len, 0 };
	size_t depth = 0, level = 0, start, taglen;
	int empty, root = 0, content = 0, container;
	const char *tag;

	if (memchr(buf, '\0', len) != NULL)
		return refuse(w, "holds a NUL byte; a launchd job is text");
	while (!at_end(&x)) {
		skip_ws(&x);
		if (at_end(&x))
			break;
		if (buf[x.x_pos] != '<' || ++x.x_pos >= len)
			return refuse(w, DAMAGED);
		if (buf[x.x_pos] == '?' || buf[x.x_pos] == '!') {
			if (special(w, &x) == -1)
				return -1;
			continue;
		}
		start = x.x_pos;
		find_next(&x, " \r\n\t<>", 0);
		if (at_end(&x))
			return refuse(w, DAMAGED);
		tag = buf + start;
		taglen = x.x_pos - start;
		if (buf[x.x_pos] != '>')
			find_next(&x, "<>", 1);
		if (at_end(&x) || buf[x.x_pos] != '>')
			return refuse(w, DAMAGED);
		empty = buf[x.x_pos - 1] == '/';
		if (empty && x.x_pos - start - 1 < taglen)
			taglen = x.x_pos - start - 1;
		x.x_pos++;
		if (is(tag, taglen, "plist")) {
			if (depth == 0 && root)
				return 0;	/* libplist stops here */
			/* libplist nests a <plist> in another; no file does */
			if (empty || depth > 0)
				return refuse(w, DAMAGED);
			stack[depth++] = OPEN_PLIST;
			content = 0;
			continue;
		}
		if (is(tag, taglen, "/plist")) {
			if (!content || depth == 0 ||
			    stack[depth - 1] != OPEN_PLIST)
				return refuse(w, DAMAGED);
			depth--;
			continue;
		}
		if (tag[0] == '/') {
			if (depth == 0 || stack[depth - 1] == OPEN_PLIST ||
			    !is(tag + 1, taglen - 1,
			    stack[depth - 1] == OPEN_ARRAY ? "array" : "dict"))
				return refuse(w, DAMAGED);
			depth--;
			if (--level == 0)
				return 0;	/* the root is closed: done */
			continue;
		}
		if (value(w) == -1)
			return -1;
		content = 1;
		container = is(tag, taglen, "array") || is(tag, taglen, "dict");
		if (!container && leaf(w, &x, tag, taglen, empty) == -1)
			return -1;
		if (!root) {
			root = 1;
			if (!container)
				return 0;	/* a lone value is all */
			level = 1;		/* the root is the parent */
			if (!empty)
				stack[depth++] = is(tag, taglen, "array") ?
				    OPEN_ARRAY : OPEN_DICT;
			continue;
		}
		if (container && !empty) {
			if (level >= LAUNCHD_DEPTH_MAX ||
			    depth >= LAUNCHD_DEPTH_MAX + 1)
				return too_deep(w);
			level++;
			stack[depth++] = is(tag, taglen, "array") ?
			    OPEN_ARRAY : OPEN_DICT;
		}
	}
	return 0;
}

/* Binary, as bplist.c reads it. */
struct bin {
	const unsigned char	*b_buf;
	size_t			 b_table;	/* the offset table: objects
						 * end before it */
	unsigned long long	 b_nobjects;
	unsigned		 b_offsize;	/* bytes of an offset */
	unsigned		 b_refsize;	/* bytes of a reference */
};

/* The big-endian number of n (1 to 8) bytes at p. */
static unsigned long long
be(const unsigned char *p, unsigned n)
{
	unsigned long long v = 0;

	while (n-- > 0)
		v = v << 8 | *p++;
	return v;
}

/* A container being walked: its references, and how far. */
struct frame {
	size_t			 f_refs;	/* offset of its references */
	unsigned long long	 f_n;		/* references in all */
	unsigned long long	 f_next;	/* the next one to visit */
	int			 f_dict;	/* keys first, values after */
};

enum { BPLIST_ARRAY = 0xa, BPLIST_SET = 0xc, BPLIST_DICT = 0xd };

/*
 * Visit object index at depth (containers around it): check its bytes,
 * count it, and if it is a container fill *f (return 1); a leaf is 0,
 * -1 refused. key: it must be a string, as libplist wants of a key.
 * f may be NULL at LAUNCHD_DEPTH_MAX, where no container is let in.
 */
static int
object(struct walk *w, const struct bin *b, unsigned long long index,
    size_t depth, int key, struct frame *f)
{
	const unsigned char *o;
	unsigned long long size, i, u;
	size_t at, end;
	unsigned type, n;
	int lead = 0;

	if (index >= b->b_nobjects)
		return refuse(w, DAMAGED);
	at = (size_t)be(b->b_buf + b->b_table + index * b->b_offsize,
	    b->b_offsize);
	if (at < 8 || at >= b->b_table)
		return refuse(w, DAMAGED);
	if (value(w) == -1)
		return -1;
	o = b->b_buf + at;
	type = o[0] >> 4;
	size = o[0] & 0xf;
	at++;
	if (size == 0xf && (type == 0x4 || type == 0x5 || type == 0x6 ||
	    type == BPLIST_ARRAY || type == BPLIST_SET ||
	    type == BPLIST_DICT)) {
		if (at >= b->b_table || (b->b_buf[at] >> 4) != 0x1 ||
		    (b->b_buf[at] & 0xf) > 3)
			return refuse(w, DAMAGED);
		n = 1u << (b->b_buf[at] & 0xf);
		if (++at + n > b->b_table)
			return refuse(w, DAMAGED);
		size = be(b->b_buf + at, n);
		at += n;
	}
	if (key && type != 0x5 && type != 0x6)
		return refuse(w, DAMAGED);
	end = b->b_table - at;		/* bytes the object may use */
	switch (type) {
	/* Strings are counted before they are scanned, so that scanning a
	 * shared one again and again stays within the limit too. */
	case 0x5:		/* ASCII string */
		if (size > end)
			return refuse(w, DAMAGED);
		if (bytes(w, size) == -1)
			return -1;
		if (memchr(b->b_buf + at, '\0', (size_t)size) != NULL)
			return refuse(w, "a key or string holds a NUL byte");
		return 0;
	case 0x6:		/* UTF-16 string */
		if (size > end / 2)
			return refuse(w, DAMAGED);
		if (bytes(w, size * 3) == -1)
			return -1;
		for (i = 0; i < size; i++) {
			u = be(b->b_buf + at + 2 * i, 2);
			if (u == 0)
				return refuse(w, "a key or string holds a NUL "
				    "byte");
			if (lead != (u >= 0xdc00 && u <= 0xdfff))
				return refuse(w, "a string is not valid "
				    "UTF-16 (a surrogate half without its "
				    "pair)");
			lead = u >= 0xd800 && u <= 0xdbff;
		}
		if (lead)
			return refuse(w, "a string is not valid UTF-16 (a "
			    "surrogate half without its pair)");
		return 0;
	case 0x4:		/* data */
		if (size > end)
			return refuse(w, DAMAGED);
		return bytes(w, size) == -1 ? -1 : 0;
	case BPLIST_ARRAY:
	case BPLIST_SET:
	case BPLIST_DICT:
		if (depth >= LAUNCHD_DEPTH_MAX)
			return too_deep(w);
		n = type == BPLIST_DICT ? 2 : 1;
		if (size > end / b->b_refsize / n)
			return refuse(w, DAMAGED);
		f->f_refs = at;
		f->f_n = size * n;
		f->f_next = 0;
		f->f_dict = type == BPLIST_DICT;
		return 1;
	default:		/* the rest libplist checks itself */
		return 0;
	}
}

static int
binary(struct walk *w, const char *buf, size_t len)
{
	struct frame stack[LAUNCHD_DEPTH_MAX];
	const unsigned char *t;
	struct bin b;
	unsigned long long root, table, ref;
	size_t depth = 0, pos;
	struct frame *f;
	int rc;

	if (len < 8 + 32)
		return refuse(w, DAMAGED);
	t = (const unsigned char *)buf + len - 32;
	b.b_buf = (const unsigned char *)buf;
	b.b_offsize = t[6];
	b.b_refsize = t[7];
	b.b_nobjects = be(t + 8, 8);
	root = be(t + 16, 8);
	table = be(t + 24, 8);
	if (b.b_nobjects == 0 || b.b_offsize == 0 || b.b_offsize > 8 ||
	    b.b_refsize == 0 || b.b_refsize > 8 || root >= b.b_nobjects ||
	    table < 8 || table >= len - 32 ||
	    b.b_nobjects > (len - 32 - table) / b.b_offsize)
		return refuse(w, DAMAGED);
	b.b_table = (size_t)table;

	if ((rc = object(w, &b, root, 0, 0, &stack[0])) <= 0)
		return rc;
	depth = 1;
	while (depth > 0) {
		f = &stack[depth - 1];
		if (f->f_next == f->f_n) {
			depth--;
			continue;
		}
		/* libplist reads a dictionary's key j, then its value j. */
		if (f->f_dict)
			pos = (size_t)(f->f_next % 2 == 0 ? f->f_next / 2 :
			    f->f_n / 2 + f->f_next / 2);
		else
			pos = (size_t)f->f_next;
		ref = be(b.b_buf + f->f_refs + pos * b.b_refsize,
		    b.b_refsize);
		rc = object(w, &b, ref, depth, f->f_dict && f->f_next % 2 == 0,
		    depth < LAUNCHD_DEPTH_MAX ? &stack[depth] : NULL);
		f->f_next++;
		if (rc == -1)
			return -1;
		if (rc == 1)
			depth++;
	}
	return 0;
}

int
launchd_bounds(const void *buf, size_t len, char *why, size_t whylen)
{
	struct walk w;

	memset(&w, 0, sizeof(w));
	w.w_why = why;
	w.w_whylen = whylen;
	if (len > LAUNCHD_SIZE_MAX)
		return refuse(&w, "larger than %d MiB; no launchd job is",
		    LAUNCHD_SIZE_MAX / (1024 * 1024));
	/* plist_from_memory's choice: "bplist00" is binary, all else XML. */
	if (len >= 8 && memcmp(buf, "bplist00", 8) == 0)
		return binary(&w, buf, len);
	if (len < 8)
		return refuse(&w, DAMAGED);
	return xml(&w, buf, len);
}
