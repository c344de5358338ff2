/* cni/meshd_client.c: mesh-cni's questions to meshd, over the client that meshctl shares
 * (meshapi/client.h). */
#include "cni/meshd_client.h"

#include <errno.h>

#include "meshapi/client.h"

int cni_meshd_request(const char *socket_path, const char *method, const char *path,
		      const char *body, int timeout_s, int *code, cJSON **out)
{
	struct meshapi_response res;
	int ret = meshapi_request(socket_path, "mesh-cni", method, path, body, timeout_s, &res);
	*code = res.code;
	*out = res.json;
	res.json = NULL; /* the caller's now */
	meshapi_response_free(&res);
	return ret;
}

int cni_meshd_status(const char *socket_path, int *mtu)
{
	cJSON *j = NULL;
	int code, ret;

	*mtu = 0;
	ret = cni_meshd_request(socket_path, "GET", "/v1/status", NULL, 2, &code, &j);
	if (ret < 0)
		return ret;
	if (code != 200 || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return -EPROTO;
	}
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "mtu");
	if (cJSON_IsNumber(m) && m->valuedouble >= 576 && m->valuedouble <= 65535)
		*mtu = (int)m->valuedouble;
	cJSON_Delete(j);
	return 0;
}
