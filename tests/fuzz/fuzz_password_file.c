/* tests/fuzz/fuzz_password_file.c: the password file's parser (router/password.c).
 * Input: the file's content. Invariants: a success gives one or two passwords, each inside the
 * input, at least MESH_PASSWORD_MIN bytes, holding no line end, the first at offset 0; a
 * failure says why. */
#include <errno.h>

#include "router/password.h"
#include "tests/fuzz/fuzz.h"

FUZZ_ENTRY(password_file)(const uint8_t *data, size_t size)
{
	size_t off[MESH_PASSWORDS_MAX], n[MESH_PASSWORDS_MAX];
	unsigned count = 99;
	char why[200] = "";
	int ret = mesh_password_file_parse((const char *)data, size, off, n, &count, why,
					   sizeof(why));
	if (ret < 0) {
		FUZZ_CHECK(ret == -EINVAL && why[0] && count == 0);
		return 0;
	}
	FUZZ_CHECK(ret == 0 && (count == 1 || count == 2));
	FUZZ_CHECK(off[0] == 0);
	for (unsigned i = 0; i < count; i++) {
		FUZZ_CHECK(off[i] <= size && n[i] <= size - off[i]);
		FUZZ_CHECK(n[i] >= MESH_PASSWORD_MIN);
		FUZZ_CHECK(!memchr(data + off[i], '\n', n[i]));
		FUZZ_CHECK(data[off[i] + n[i] - 1] != '\r');
	}
	if (count == 2)
		FUZZ_CHECK(off[1] > off[0] + n[0]);
	return 0;
}
