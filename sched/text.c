/*
 * text.c: text as vmsched takes it in and shows it. Everything vmsched
 * stores and prints is UTF-8: input that is not is refused where it enters
 * (arguments, plists, standard input), and what still reaches an output
 * (a database written by hand, a webhook receiver's answer) is repaired
 * for JSON and escaped for the terminal, so no byte a user chose can move
 * the cursor, retitle the window or break the document it is printed in.
 * Pure functions over bytes: no I/O, no locale.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define ELLIPSIS	"..."

/*
 * The length of the valid UTF-8 sequence at p (len bytes available),
 * with its code point in *cp; 0 if p does not start one (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF).
 */
static size_t
seq(const unsigned char *p, size_t len, unsigned long *cp)
{
	unsigned long c, min;
	size_t need, i;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] < 0xc2)
		return 0;
	if (p[0] < 0xe0) {
		need = 1;
		c = p[0] & 0x1f;
		min = 0x80;
	} else if (p[0] < 0xf0) {
		need = 2;
		c = p[0] & 0x0f;
		min = 0x800;
	} else if (p[0] < 0xf5) {
		need = 3;
		c = p[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (len < need + 1)
		return 0;
	for (i = 1; i <= need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return need + 1;
}

int
text_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t i, n;

	for (i = 0; i < len; i += n)
		if ((n = seq(p + i, len - i, &cp)) == 0)
			return 0;
	return 1;
}

size_t
text_utf8_fix(const char *s, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t i, n, o = 0;

	for (i = 0; i < len; i += n) {
		if ((n = seq(p + i, len - i, &cp)) == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);	/* U+FFFD */
			o += 3;
			n = 1;
			continue;
		}
		memcpy(out + o, s + i, n);
		o += n;
	}
	return o;
}

/*
 * Whether a terminal may act on code point cp rather than show it: the C0
 * and C1 controls and DEL, the line and paragraph separators, and the
 * bidirectional overrides that make text read other than it is.
 */
static int
unsafe(unsigned long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	    cp == 0x200e || cp == 0x200f || cp == 0x2028 || cp == 0x2029 ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * The unit of s at p as it is shown, into unit (16 bytes): itself, or an
 * escape (\n, \t, \r, \xNN for other bytes below 0x80 and for bytes that
 * are not UTF-8, \uNNNN for other code points). Returns the input bytes
 * it stands for.
 */
static size_t
unit(const unsigned char *p, size_t len, char *u)
{
	static const char hex[] = "0123456789abcdef";
	unsigned long cp;
	size_t n;

	if ((n = seq(p, len, &cp)) == 0) {
		cp = p[0];
		n = 1;
	} else if (!unsafe(cp)) {
		memcpy(u, p, n);
		u[n] = '\0';
		return n;
	} else if (cp == '\n' || cp == '\t' || cp == '\r') {
		u[0] = '\\';
		u[1] = cp == '\n' ? 'n' : cp == '\t' ? 't' : 'r';
		u[2] = '\0';
		return n;
	}
	if (n == 1) {
		u[0] = '\\';
		u[1] = 'x';
		u[2] = hex[cp >> 4];
		u[3] = hex[cp & 0xf];
		u[4] = '\0';
	} else {
		u[0] = '\\';
		u[1] = 'u';
		u[2] = hex[(cp >> 12) & 0xf];
		u[3] = hex[(cp >> 8) & 0xf];
		u[4] = hex[(cp >> 4) & 0xf];
		u[5] = hex[cp & 0xf];
		u[6] = '\0';
	}
	return n;
}

/* The bytes s takes once escaped, without the NUL. */
static size_t
escaped_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, len = strlen(s), total = 0;
	char u[16];

	for (i = 0; i < len; ) {
		i += unit(p + i, len - i, u);
		total += strlen(u);
	}
	return total;
}

char *
text_shown(const char *s, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, n, o = 0, slen = strlen(s), room;
	char u[16];

	if (len == 0)
		return buf;
	/* Room for the text, and for "..." in case it does not all fit. */
	room = escaped_len(s) < len || len <= sizeof(ELLIPSIS) ? len - 1 :
	    len - sizeof(ELLIPSIS);
	for (i = 0; i < slen; i += n) {
		n = unit(p + i, slen - i, u);
		if (o + strlen(u) > room)
			break;
		memcpy(buf + o, u, strlen(u));
		o += strlen(u);
	}
	if (i < slen && len > sizeof(ELLIPSIS)) {
		memcpy(buf + o, ELLIPSIS, sizeof(ELLIPSIS) - 1);
		o += sizeof(ELLIPSIS) - 1;
	}
	buf[o] = '\0';
	return buf;
}

char *
text_escape(const char *s)
{
	size_t len = escaped_len(s) + 1;
	char *buf;

	if ((buf = malloc(len)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	return text_shown(s, buf, len);
}
