#!/usr/bin/env bash
# test_k8s_daemonset: scripts/k8s/mesh-daemonset.yaml, checked offline (no cluster here):
#  - yamllint (Debian's package) finds no error;
#  - every document is checked against the Kubernetes API's own types, as Debian's
#    python3-kubernetes (22.6, API 1.22) models them: no unknown field anywhere, every value of
#    the declared type, required fields present (the client's deserializer);
#  - what a mesh node needs: a DaemonSet in kube-system on the host network, privileged,
#    tolerating every taint, with /opt/cni/bin, /etc/cni/net.d, /run/mesh and /var/lib/mesh
#    mounted from the host, the password from a Secret (file or MESH_PASSWORD), an init
#    container that installs mesh-cni and the conflist, meshd started with the API socket
#    mesh-cni's config names;
#  - the conflist in the ConfigMap is JSON that mesh-cni itself accepts (an ADD into an absent
#    netns gets past the config: CNI error 3, not 4, 6 or 7).
# No lab.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=cni_lib.sh
source "$(dirname "$0")/cni_lib.sh"
# shellcheck disable=SC2154 # rc is set inside the trap
trap 'rc=$?; rm -rf "$TEST_TMP"; ((rc)) || info PASS; exit $rc' EXIT

need_pkgs python3-yaml python3-kubernetes yamllint
Y=$REPO_ROOT/scripts/k8s/mesh-daemonset.yaml
PY=/usr/bin/python3 # Debian's, with the packages above (not a python3 earlier on PATH)

info "yamllint $Y"
YL='{extends: default, rules: {line-length: {max: 120}, document-start: disable, comments: {min-spaces-from-content: 1}}}'
yamllint -d "$YL" "$Y" ||
	die "yamllint found errors"

info "schema and content checks (python3-kubernetes models)"
"$PY" - "$Y" "$TEST_TMP" <<'PY' || die "the manifest does not check out"
import json, re, sys
import yaml
from kubernetes import client
from kubernetes.client import models

path, tmp = sys.argv[1], sys.argv[2]
errors = []

def err(msg):
    errors.append(msg)

def check_type(val, typ, where):
    if typ in ("object",):
        return
    if typ == "str":
        if not isinstance(val, str):
            err(f"{where}: want a string, got {val!r}")
    elif typ == "int":
        if not isinstance(val, int) or isinstance(val, bool):
            err(f"{where}: want an integer, got {val!r}")
    elif typ == "bool":
        if not isinstance(val, bool):
            err(f"{where}: want true/false, got {val!r}")
    elif typ == "datetime":
        if not isinstance(val, str):
            err(f"{where}: want a timestamp, got {val!r}")
    elif typ.startswith("list["):
        if not isinstance(val, list):
            err(f"{where}: want a list, got {val!r}")
            return
        for i, v in enumerate(val):
            check_type(v, typ[5:-1], f"{where}[{i}]")
    elif typ.startswith("dict("):
        inner = re.match(r"dict\(str, (.*)\)$", typ).group(1)
        if not isinstance(val, dict):
            err(f"{where}: want a map, got {val!r}")
            return
        for k, v in val.items():
            check_type(v, inner, f"{where}.{k}")
    else:
        check_obj(val, typ, where)

def check_obj(obj, cls_name, where):
    cls = getattr(models, cls_name, None)
    if cls is None:
        err(f"{where}: no model {cls_name}")
        return
    if not isinstance(obj, dict):
        err(f"{where}: want an object ({cls_name}), got {obj!r}")
        return
    by_json = {v: k for k, v in cls.attribute_map.items()}
    for key, val in obj.items():
        if key not in by_json:
            err(f"{where}.{key}: no such field in {cls_name}")
            continue
        check_type(val, cls.openapi_types[by_json[key]], f"{where}.{key}")

docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
kinds = {d.get("kind"): d for d in docs}
api = client.ApiClient()
for d in docs:
    cls_name = "V1" + d.get("kind", "?")
    check_obj(d, cls_name, d.get("kind", "?"))
    try:
        api._ApiClient__deserialize(d, cls_name)  # the client's own checks (required fields)
    except Exception as e:  # noqa: BLE001
        err(f"{d.get('kind')}: {e}")

ds, cm = kinds.get("DaemonSet"), kinds.get("ConfigMap")
if not ds or not cm:
    err("want a DaemonSet and a ConfigMap")
    print("\n".join(errors)); sys.exit(1)
if ds["apiVersion"] != "apps/v1":
    err("DaemonSet: apiVersion apps/v1")
if ds["metadata"].get("namespace") != "kube-system":
    err("DaemonSet: namespace kube-system")
spec = ds["spec"]
pod = spec["template"]["spec"]
if spec["selector"]["matchLabels"].items() - spec["template"]["metadata"]["labels"].items():
    err("DaemonSet: the selector does not match the template's labels")
if pod.get("hostNetwork") is not True:
    err("pod: hostNetwork: true")
if {"operator": "Exists"} not in pod.get("tolerations", []):
    err("pod: a toleration with operator Exists alone (every taint, every node)")
vols = {v["name"]: v for v in pod["volumes"]}
host = {v["hostPath"]["path"]: n for n, v in vols.items() if "hostPath" in v}
for p in ("/opt/cni/bin", "/etc/cni/net.d", "/run/mesh", "/var/lib/mesh"):
    if p not in host:
        err(f"volumes: no hostPath {p}")
secret_vols = [n for n, v in vols.items() if "secret" in v]
meshd = [c for c in pod["containers"] if c["name"] == "meshd"]
if len(meshd) != 1:
    err("pod: one container named meshd")
    print("\n".join(errors)); sys.exit(1)
meshd = meshd[0]
for c in pod["containers"] + pod.get("initContainers", []):
    if not c.get("securityContext", {}).get("privileged"):
        err(f"container {c['name']}: privileged")
mounts = {m["name"]: m["mountPath"] for m in meshd["volumeMounts"]}
for p in ("/run/mesh", "/var/lib/mesh"):
    if mounts.get(host.get(p)) != p:
        err(f"meshd: the host's {p} mounted at {p}")
cmd = " ".join(meshd.get("command", []) + meshd.get("args", []))
env = {e["name"]: e for e in meshd.get("env", [])}
pw_file = re.search(r"--password-file\s+(\S+)", cmd)
if pw_file:
    d = pw_file.group(1).rsplit("/", 1)[0]
    if not any(mounts.get(n) == d for n in secret_vols):
        err(f"meshd: --password-file {pw_file.group(1)} is not in a mounted Secret")
elif "secretKeyRef" not in env.get("MESH_PASSWORD", {}).get("valueFrom", {}):
    err("meshd: no password from a Secret (--password-file or MESH_PASSWORD)")
if "--api-socket /run/mesh/meshd.sock" not in cmd:
    err("meshd: --api-socket /run/mesh/meshd.sock (what mesh-cni's config names)")
if "--state-dir /var/lib/mesh" not in cmd:
    err("meshd: --state-dir /var/lib/mesh")
for k, e in env.items():
    ref = e.get("valueFrom", {}).get("configMapKeyRef")
    if ref and (ref["name"] != cm["metadata"]["name"] or ref["key"] not in cm["data"]):
        err(f"meshd: env {k} names {ref['name']}/{ref['key']}, which the ConfigMap lacks")
inits = pod.get("initContainers", [])
script = " ".join(" ".join(c.get("command", []) + c.get("args", [])) for c in inits)
imounts = {m["mountPath"] for c in inits for m in c.get("volumeMounts", [])}
if "/host/opt/cni/bin/mesh-cni" not in script or "/host/etc/cni/net.d/10-mesh.conflist" not in script:
    err("init container: must install mesh-cni and 10-mesh.conflist into the host's dirs")
for p in ("/host/opt/cni/bin", "/host/etc/cni/net.d"):
    if p not in imounts:
        err(f"init container: {p} not mounted")
try:
    conf = json.loads(cm["data"]["10-mesh.conflist"])
except Exception as e:  # noqa: BLE001
    err(f"ConfigMap: 10-mesh.conflist is not JSON: {e}")
else:
    plug = [p for p in conf.get("plugins", []) if p.get("type") == "mesh-cni"]
    if len(plug) != 1 or "ipam" in plug[0] or plug[0].get("socket") != "/run/mesh/meshd.sock":
        err("conflist: one mesh-cni plugin, mesh IPAM (no ipam key), socket /run/mesh/meshd.sock")
    else:
        # what libcni hands the plugin: its own object plus the list's name and cniVersion
        p = dict(plug[0], name=conf["name"], cniVersion=conf["cniVersion"])
        open(f"{tmp}/plugin.json", "w").write(json.dumps(p))
if errors:
    print("\n".join(errors))
    sys.exit(1)
print(f"  {len(docs)} documents: {', '.join(d['kind'] for d in docs)}; no unknown field, types and content fine")
PY

info "mesh-cni accepts the ConfigMap's network config"
out=$(env -i CNI_COMMAND=ADD CNI_CONTAINERID=k8s-check CNI_NETNS=/var/run/netns/mesh-k8s-no-such-ns CNI_IFNAME=eth0 \
	CNI_PATH=/opt/cni/bin "$CNI_BIN" <"$TEST_TMP/plugin.json") && die "mesh-cni ADD into no netns succeeded: $out"
jq -e '.code == 3' <<<"$out" >/dev/null || die "mesh-cni rejects the conflist's config: $out"
