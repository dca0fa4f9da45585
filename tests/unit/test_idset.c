/* idset: the uid ranges of omd --guest-uids. */
#include "lib/idset.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <string.h>

static void parses(const char *s, const char *canon, const char *what)
{
	struct idset set;
	char buf[256];

	if (idset_parse(s, &set, NULL)) {
		ok(0, "%s: parses", what);
		return;
	}
	is_int(idset_format(&set, buf, sizeof(buf)), (int)strlen(canon), "%s: formats", what);
	is_str(buf, canon, "%s: canonical text", what);
}

static void refused(const char *s, int err, const char *what)
{
	struct idset set;
	const char *why = NULL;

	is_int(idset_parse(s, &set, &why), err, "%s: refused", what);
	ok(why && *why, "%s: says why (%s)", what, why ? why : "nothing");
}

int main(void)
{
	struct idset set;
	char small[4];

	parses("all", "all", "all");
	parses("0", "0", "one id");
	parses("1000-1999,2500,3000-3000", "1000-1999,2500,3000", "ranges and ids");
	parses("4294967294", "4294967294", "the largest id");
	refused("", -EINVAL, "empty");
	refused("1,,2", -EINVAL, "an empty item");
	refused("1,", -EINVAL, "a trailing comma");
	refused("5-3", -EINVAL, "a backwards range");
	refused("4294967295", -EINVAL, "(uid_t)-1");
	refused("1000-", -EINVAL, "an open range");
	refused(" 1000", -EINVAL, "a space");
	refused("root", -EINVAL, "a name");
	refused("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,"
		"31,32,33",
		-E2BIG, "33 items");
	ok(!idset_parse("1000-1999,2500", &set, NULL), "a set");
	ok(idset_has(&set, 1000) && idset_has(&set, 1999) && idset_has(&set, 2500),
		"its ends and its single id are in it");
	ok(!idset_has(&set, 0) && !idset_has(&set, 999) && !idset_has(&set, 2000) &&
			!idset_has(&set, 2501),
		"root and the ids around it are not");
	ok(!idset_parse("all", &set, NULL) && idset_has(&set, 0) && idset_has(&set, 123456),
		"all has every id");
	ok(!idset_parse("1000-1999", &set, NULL), "another set");
	is_int(idset_format(&set, small, sizeof(small)), -ENOBUFS, "format into too small a buffer");
	return tap_done();
}
