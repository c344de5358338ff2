/* router/password.h: the password file (--password-file): one password a line, at most two.
 * The first is the one this host seals with; a second is accepted as well, so a mesh changes
 * its password without a partition (README, "Changing the password"): every host first accepts
 * the new one, then seals with it, then drops the old one, rereading the file on SIGHUP.
 * The parser is pure (unit-tested, fuzzed); reading and key derivation are beside it. */
#ifndef MESH_ROUTER_PASSWORD_H
#define MESH_ROUTER_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/psk.h"

#define MESH_PASSWORD_FILE_MAX 4096
#define MESH_PASSWORDS_MAX 2

/* The passwords of a file's content buf[0..len) (not NUL-terminated; not modified): lines end
 * in "\n" or "\r\n", trailing empty lines are ignored, an empty line between two passwords is
 * not. Fills off[i]/n[i] with where each password lies in buf and sets *count (1 or 2).
 * Returns 0, or -EINVAL with why filled in (empty, more than two, a password shorter than
 * MESH_PASSWORD_MIN, an empty line, the same password twice, a NUL byte). */
int mesh_password_file_parse(const char *buf, size_t len, size_t off[MESH_PASSWORDS_MAX],
			     size_t n[MESH_PASSWORDS_MAX], unsigned *count, char *why, size_t cap);

/* The keys of the passwords in `path`, for mesh `mesh_name`: psk[0] seals, psk[1] (when *count
 * is 2) is also accepted. Returns 0, or a negative errno with err saying what (the file named). */
int mesh_password_file_keys(const char *path, const char *mesh_name,
			    uint8_t psk[MESH_PASSWORDS_MAX][MESH_KEY_LEN], unsigned *count,
			    char *err, size_t errlen);

#endif
