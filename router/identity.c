/* router/identity.c: the persistent peer name (see identity.h). */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "router/identity.h"
#include "router/statefile.h"

#define HEADER "mesh-peer-name 1\n"

int mesh_identity_parse(const char *buf, size_t len, struct mesh_peer_name *out)
{
	char name[MESH_PEER_NAME_STRLEN];
	size_t hl = strlen(HEADER);
	if (len != hl + MESH_PEER_NAME_STRLEN || memcmp(buf, HEADER, hl) != 0 ||
	    buf[len - 1] != '\n')
		return -EBADMSG;
	memcpy(name, buf + hl, MESH_PEER_NAME_STRLEN - 1);
	name[MESH_PEER_NAME_STRLEN - 1] = '\0';
	if (mesh_peer_name_parse(name, out) < 0)
		return -EBADMSG;
	return 0;
}

void mesh_identity_generate(struct mesh_peer_name *out)
{
	randombytes_buf(out->b, sizeof(out->b));
	out->b[0] = (uint8_t)((out->b[0] & 0xfc) | 0x02);
}

int mesh_identity_load(const char *state_dir, mesh_identity_known_fn known,
		       struct mesh_peer_name *out, char *note, size_t notelen, char *err,
		       size_t errlen)
{
	char path[512], buf[128], aside[600];
	int ret;

	note[0] = '\0';
	ret = mesh_mkdir_p(state_dir, 0700);
	if (ret < 0) {
		snprintf(err, errlen, "cannot create state dir %s: %s", state_dir, strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/%s", state_dir, MESH_IDENTITY_FILE);
	ssize_t n = mesh_read_small(path, buf, sizeof(buf));
	if (n >= 0 && mesh_identity_parse(buf, (size_t)n, out) == 0)
		return 0;
	if (n >= 0 || n == -EFBIG) {
		ret = mesh_set_aside(path, aside, sizeof(aside));
		if (ret == 0)
			snprintf(note, notelen, "%s was corrupt (set aside as %s)", path, aside);
		else
			snprintf(note, notelen, "%s was corrupt and could not be set aside (%s)", path,
				 strerror(-ret));
	} else if (n != -ENOENT) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror((int)-n));
		return (int)n;
	}
	char name[MESH_PEER_NAME_STRLEN];
	size_t used = strlen(note);
	if (known && known(state_dir, out)) {
		mesh_peer_name_format(out, name);
		snprintf(note + used, notelen - used, "%s: kept the peer name %s that wrote the IPAM "
			 "state, so this host keeps its address space", used ? "" : "no peer-name file",
			 name);
	} else {
		mesh_identity_generate(out);
		mesh_peer_name_format(out, name);
		if (used)
			snprintf(note + used, notelen - used, "; made a new peer name %s", name);
	}
	snprintf(buf, sizeof(buf), HEADER "%s\n", name);
	ret = mesh_write_atomic(path, buf, strlen(buf));
	if (ret < 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-ret));
		return ret;
	}
	return 0;
}
