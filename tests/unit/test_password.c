/* tests/unit/test_password.c: the password file's format (router/password.c): one password a
 * line, at most two, each long enough. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "router/password.h"

static int parse(const char *s, size_t off[2], size_t n[2], unsigned *count, char *why)
{
	return mesh_password_file_parse(s, strlen(s), off, n, count, why, 200);
}

Test(password, one_password_with_or_without_a_line_end)
{
	size_t off[2], n[2];
	unsigned count;
	char why[200];
	cr_assert_eq(parse("correct-horse-battery", off, n, &count, why), 0, "%s", why);
	cr_assert_eq(count, 1);
	cr_assert_eq(off[0], 0);
	cr_assert_eq(n[0], 21);
	cr_assert_eq(parse("correct-horse-battery\r\n\n", off, n, &count, why), 0, "%s", why);
	cr_assert_eq(count, 1);
	cr_assert_eq(n[0], 21);
}

Test(password, two_passwords_the_first_seals)
{
	size_t off[2], n[2];
	unsigned count;
	char why[200];
	const char *s = "new-password-2026-12\r\nold-password-2026-01-01\n";
	cr_assert_eq(parse(s, off, n, &count, why), 0, "%s", why);
	cr_assert_eq(count, 2);
	cr_assert_eq(n[0], 20);
	cr_assert(memcmp(s + off[0], "new-password-2026-12", 20) == 0);
	cr_assert_eq(n[1], 23);
	cr_assert(memcmp(s + off[1], "old-password-2026-01-01", 23) == 0);
}

static void refused(const char *s, const char *want)
{
	size_t off[2], n[2];
	unsigned count = 7;
	char why[200] = "";
	cr_assert_eq(mesh_password_file_parse(s, strlen(s), off, n, &count, why, sizeof(why)),
		     -EINVAL, "accepted: %s", s);
	cr_assert_eq(count, 0);
	cr_assert(strstr(why, want), "said '%s', expected '%s'", why, want);
}

Test(password, bad_files_are_refused_saying_why)
{
	refused("", "the file is empty");
	refused("\n\r\n", "the file is empty");
	refused("fifteen-bytes!!\n", "the password is 15 bytes");
	refused("long-enough-password\nshort\n", "the password on line 2 is 5 bytes");
	refused("long-enough-password\n\nanother-long-password\n", "line 2 is empty");
	refused("aaaaaaaaaaaaaaaaaaaa\nbbbbbbbbbbbbbbbbbbbb\ncccccccccccccccccccc\n", "more than 2 lines");
	refused("aaaaaaaaaaaaaaaaaaaa\naaaaaaaaaaaaaaaaaaaa\n", "same password twice");
	size_t off[2], n[2];
	unsigned count;
	char why[200];
	cr_assert_eq(mesh_password_file_parse("aaaaaaaaaa\0aaaaaaaaaaaaaa", 25, off, n, &count, why,
					      sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "NUL"), "%s", why);
}
