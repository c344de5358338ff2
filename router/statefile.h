/* router/statefile.h: files in the state dir: created with their parent dirs, written
 * atomically (temp file, fsync, rename, fsync of the dir), and set aside when corrupt. */
#ifndef MESH_ROUTER_STATEFILE_H
#define MESH_ROUTER_STATEFILE_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p with the given mode for missing components. 0 or -errno. */
int mesh_mkdir_p(const char *dir, mode_t mode);
/* Writes data to path atomically with mode 0600. 0 or -errno. */
int mesh_write_atomic(const char *path, const void *data, size_t len);
/* Reads at most cap-1 bytes, NUL-terminates. Returns the length or -errno (-EFBIG if larger). */
ssize_t mesh_read_small(const char *path, char *buf, size_t cap);
/* Renames path to path.corrupt-<unix time>; the new name goes to aside. 0 or -errno. */
int mesh_set_aside(const char *path, char *aside, size_t cap);

#endif
