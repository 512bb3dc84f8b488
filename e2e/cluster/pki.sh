# Certificates for the local cluster (sourced by up.sh; ECDSA P-256, fast to make): one CA, the apiserver serving
# cert, client certs of every component, the kubelet serving cert and the service-account
# key pair, all with openssl, written to $1.
kvs_pki() {
  local dir=$1 node_ip=$2
  mkdir -p "$dir"
  (
    cd "$dir"
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -days 3650 \
      -subj "/CN=kvs-local-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    # name  subject  extendedKeyUsage  subjectAltName
    issue() {
      local name=$1 subj=$2 eku=$3 san=${4:-}
      local ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$eku"
      [ -n "$san" ] && ext="$ext
subjectAltName=$san"
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subj" 2>/dev/null
      openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -out "$name.crt" -extfile <(printf '%s\n' "$ext") 2>/dev/null
      rm -f "$name.csr"
    }
    issue apiserver "/CN=kube-apiserver" serverAuth \
      "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$KVS_API_SERVICE_IP,IP:$node_ip"
    issue admin "/O=system:masters/CN=kubernetes-admin" clientAuth
    issue apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
    issue controller-manager "/CN=system:kube-controller-manager" clientAuth
    issue scheduler "/CN=system:kube-scheduler" clientAuth
    issue kube-proxy "/CN=system:kube-proxy" clientAuth
    issue node "/O=system:nodes/CN=system:node:$KVS_NODE_NAME" clientAuth
    issue kubelet-serving "/CN=$KVS_NODE_NAME" serverAuth "DNS:$KVS_NODE_NAME,DNS:localhost,IP:$node_ip,IP:127.0.0.1"
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    chmod 0644 ./*.crt sa.pub
  )
}

# kvs_kubeconfig OUT PKI-DIR CERT-BASENAME SERVER [USER]: a kubeconfig with the CA and the
# client cert/key embedded (self-contained: it can be copied anywhere).
kvs_kubeconfig() {
  local out=$1 pki=$2 cert=$3 server=$4 user=${5:-$3}
  cat > "$out" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kvs
  cluster:
    certificate-authority-data: $(base64 -w0 < "$pki/ca.crt")
    server: $server
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 < "$pki/$cert.crt")
    client-key-data: $(base64 -w0 < "$pki/$cert.key")
contexts:
- name: kvs
  context:
    cluster: kvs
    user: $user
current-context: kvs
EOF
  chmod 0600 "$out"
}
