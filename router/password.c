/* router/password.c: the password file's format and its keys (see password.h). */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "router/log.h"
#include "router/password.h"
#include "router/statefile.h"

int mesh_password_file_parse(const char *buf, size_t len, size_t off[MESH_PASSWORDS_MAX],
			     size_t n[MESH_PASSWORDS_MAX], unsigned *count, char *why, size_t cap)
{
	*count = 0;
	if (memchr(buf, '\0', len)) {
		snprintf(why, cap, "holds a NUL byte");
		return -EINVAL;
	}
	/* without the trailing line ends */
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len == 0) {
		snprintf(why, cap, "the file is empty");
		return -EINVAL;
	}
	size_t at = 0;
	unsigned k = 0;
	while (at <= len) {
		const char *nl = memchr(buf + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - buf) : len;
		size_t l = end - at;
		if (l > 0 && buf[at + l - 1] == '\r')
			l--;
		if (k == MESH_PASSWORDS_MAX) {
			snprintf(why, cap, "holds more than %d lines: one password a line, the one to "
				 "use first, then at most one more to accept while the mesh changes "
				 "its password", MESH_PASSWORDS_MAX);
			return -EINVAL;
		}
		if (l == 0) {
			snprintf(why, cap, "line %u is empty: one password a line", k + 1);
			return -EINVAL;
		}
		if (l < MESH_PASSWORD_MIN) {
			char where[24] = "";
			if (k > 0)
				snprintf(where, sizeof(where), " on line %u", k + 1);
			snprintf(why, cap, "the password%s is %zu bytes: a password must have at least "
				 "%d (a short one can be guessed offline from one handshake)", where, l,
				 MESH_PASSWORD_MIN);
			return -EINVAL;
		}
		off[k] = at;
		n[k] = l;
		k++;
		if (!nl)
			break;
		at = end + 1;
	}
	if (k == 2 && n[0] == n[1] && memcmp(buf + off[0], buf + off[1], n[0]) == 0) {
		snprintf(why, cap, "holds the same password twice");
		return -EINVAL;
	}
	*count = k;
	return 0;
}

int mesh_password_file_keys(const char *path, const char *mesh_name,
			    uint8_t psk[MESH_PASSWORDS_MAX][MESH_KEY_LEN], unsigned *count,
			    char *err, size_t errlen)
{
	size_t off[MESH_PASSWORDS_MAX], n[MESH_PASSWORDS_MAX];
	char why[200];
	struct stat st;
	int ret;
	char *buf = sodium_malloc(MESH_PASSWORD_FILE_MAX + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ssize_t len = mesh_read_small(path, buf, MESH_PASSWORD_FILE_MAX + 1);
	if (len < 0) {
		snprintf(err, errlen, "--password-file %s: %s", path,
			 len == -EFBIG ? "longer than 4096 bytes" : strerror((int)-len));
		ret = (int)len;
		goto out;
	}
	ret = mesh_password_file_parse(buf, (size_t)len, off, n, count, why, sizeof(why));
	if (ret < 0) {
		snprintf(err, errlen, "--password-file %s: %s", path, why);
		goto out;
	}
	for (unsigned i = 0; i < *count; i++) {
		ret = mesh_psk_derive(buf + off[i], n[i], mesh_name, psk[i]);
		if (ret < 0) {
			snprintf(err, errlen, "--password-file %s: cannot derive a key from password %u: "
				 "%s", path, i + 1, strerror(-ret));
			goto out;
		}
	}
	if (stat(path, &st) == 0 && (st.st_mode & 0077))
		log_warn("password file %s can be read by group or others (chmod 600 it)", path);
out:
	sodium_memzero(buf, MESH_PASSWORD_FILE_MAX + 1);
	sodium_free(buf);
	return ret;
}
