package api

import "time"

// Route is one endpoint of the native API, declared once here: the server
// serves exactly these, the client calls them by name, the OpenAPI
// document lists them, and the policy layer checks Action.
type Route struct {
	// Name identifies the route in code, metrics and logs.
	Name string
	// Method and Path are a net/http ServeMux pattern's two halves; path
	// wildcards are {name}.
	Method, Path string
	// BodyLimit is the most request body bytes read; zero means no body.
	BodyLimit int64
	// Timeout bounds the request's handling.
	Timeout time.Duration
	// Action is what the policy layer authorises ("keys:encrypt").
	Action string
	// Public routes need no token: health, seal status, init, unseal,
	// and the documents that describe the API.
	Public bool
	// Summary is the OpenAPI summary.
	Summary string
}

// Pattern returns the route's ServeMux pattern.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// Limits on requests.
const (
	// SmallBody bounds requests that carry no data to encrypt.
	SmallBody = 64 << 10
	// DataBody bounds requests that carry data (encrypt, sign, mac, import):
	// 4 MiB of payload, base64-encoded, plus room for the rest.
	DataBody = 6 << 20
	// BatchBody bounds batch requests.
	BatchBody = 32 << 20

	quick = 10 * time.Second
	slow  = 60 * time.Second // RSA-4096 key generation, root rotation
	long  = 30 * time.Minute // backup and restore
)

// Route names.
const (
	RouteHealth        = "sys.health"
	RouteSealStatus    = "sys.seal-status"
	RouteInit          = "sys.init"
	RouteUnseal        = "sys.unseal"
	RouteSeal          = "sys.seal"
	RouteRekey         = "sys.rekey"
	RouteRotateRoot    = "sys.rotate-root"
	RouteBackup        = "sys.backup"
	RouteRestore       = "sys.restore"
	RouteOpenAPI       = "sys.openapi"
	RouteMetrics       = "sys.metrics"
	RouteRandom        = "random"
	RouteCreateKey     = "keys.create"
	RouteImportKey     = "keys.import"
	RouteListKeys      = "keys.list"
	RouteGetKey        = "keys.get"
	RouteUpdateKey     = "keys.update"
	RouteRotateKey     = "keys.rotate"
	RouteEnableKey     = "keys.enable"
	RouteDisableKey    = "keys.disable"
	RouteRevokeKey     = "keys.revoke"
	RouteScheduleDel   = "keys.schedule-deletion"
	RouteCancelDel     = "keys.cancel-deletion"
	RouteDestroyKey    = "keys.destroy"
	RoutePublicKey     = "keys.public"
	RouteExportKey     = "keys.export"
	RouteEncrypt       = "keys.encrypt"
	RouteDecryptKey    = "keys.decrypt"
	RouteDecrypt       = "decrypt"
	RouteRewrap        = "rewrap"
	RouteEncryptBatch  = "encrypt-batch"
	RouteDecryptBatch  = "decrypt-batch"
	RouteDataKey       = "keys.datakey"
	RouteSign          = "keys.sign"
	RouteVerify        = "keys.verify"
	RouteMAC           = "keys.mac"
	RouteVerifyMAC     = "keys.verify-mac"
	RouteAgree         = "keys.agree"
	RouteRotateDueKeys = "sys.rotate-due-keys"
	RouteRootToken     = "sys.root-token"
)

// Routes is every route of the native API.
var Routes = []Route{
	{Name: RouteHealth, Method: "GET", Path: "/v1/sys/health", Timeout: quick, Public: true,
		Summary: "Health for load balancers: 200 when initialized and unsealed, 503 otherwise"},
	{Name: RouteSealStatus, Method: "GET", Path: "/v1/sys/seal-status", Timeout: quick, Public: true,
		Summary: "Seal status: initialized, sealed, unseal progress"},
	{Name: RouteInit, Method: "POST", Path: "/v1/sys/init", BodyLimit: SmallBody, Timeout: slow, Public: true,
		Summary: "Initialize: generate the root key, return its shares and the root token once"},
	{Name: RouteUnseal, Method: "POST", Path: "/v1/sys/unseal", BodyLimit: SmallBody, Timeout: quick, Public: true,
		Summary: "Give one unseal share"},
	{Name: RouteSeal, Method: "POST", Path: "/v1/sys/seal", Timeout: quick, Action: "sys:seal",
		Summary: "Seal: drop the root key from memory"},
	{Name: RouteRekey, Method: "POST", Path: "/v1/sys/rekey", BodyLimit: SmallBody, Timeout: slow, Action: "sys:rekey",
		Summary: "New root key and shares from a quorum of the current shares"},
	{Name: RouteRotateRoot, Method: "POST", Path: "/v1/sys/rotate-root", BodyLimit: SmallBody, Timeout: long, Action: "sys:rotate-root",
		Summary: "New root key and data-encryption key; every record re-sealed"},
	{Name: RouteBackup, Method: "POST", Path: "/v1/sys/backup", Timeout: long, Action: "sys:backup",
		Summary: "Stream an encrypted, consistent backup (application/octet-stream)"},
	{Name: RouteRestore, Method: "POST", Path: "/v1/sys/restore", BodyLimit: 1 << 40, Timeout: long, Public: true,
		Summary: "Restore a backup into an uninitialized server (the backup's root key authorizes it)"},
	{Name: RouteRootToken, Method: "POST", Path: "/v1/sys/root-token", BodyLimit: SmallBody, Timeout: quick, Action: "sys:root-token",
		Summary: "Replace the root token (a quorum of shares under a Shamir seal)"},
	{Name: RouteRotateDueKeys, Method: "POST", Path: "/v1/sys/rotate-due-keys", Timeout: long, Action: "sys:rotate-due-keys",
		Summary: "Rotate every key whose rotation period has passed"},
	{Name: RouteOpenAPI, Method: "GET", Path: "/v1/openapi.json", Timeout: quick, Public: true,
		Summary: "This API's OpenAPI 3 document"},
	{Name: RouteMetrics, Method: "GET", Path: "/metrics", Timeout: quick, Public: true,
		Summary: "Prometheus metrics"},
	{Name: RouteRandom, Method: "POST", Path: "/v1/random", BodyLimit: SmallBody, Timeout: quick, Action: "random",
		Summary: "Random bytes from crypto/rand"},

	{Name: RouteCreateKey, Method: "POST", Path: "/v1/keys", BodyLimit: SmallBody, Timeout: slow, Action: "keys:create",
		Summary: "Create a key"},
	{Name: RouteImportKey, Method: "POST", Path: "/v1/keys/{name}/import", BodyLimit: DataBody, Timeout: quick, Action: "keys:import",
		Summary: "Create a key from external material"},
	{Name: RouteListKeys, Method: "GET", Path: "/v1/keys", Timeout: quick, Action: "keys:list",
		Summary: "List keys by name prefix, a page at a time"},
	{Name: RouteGetKey, Method: "GET", Path: "/v1/keys/{name}", Timeout: quick, Action: "keys:get",
		Summary: "Get a key's metadata"},
	{Name: RouteUpdateKey, Method: "PATCH", Path: "/v1/keys/{name}", BodyLimit: SmallBody, Timeout: quick, Action: "keys:update",
		Summary: "Update description, labels, minimum decryption version, rotation period"},
	{Name: RouteRotateKey, Method: "POST", Path: "/v1/keys/{name}/rotate", Timeout: slow, Action: "keys:rotate",
		Summary: "Add a version and make it primary"},
	{Name: RouteEnableKey, Method: "POST", Path: "/v1/keys/{name}/enable", Timeout: quick, Action: "keys:enable", Summary: "Enable a key"},
	{Name: RouteDisableKey, Method: "POST", Path: "/v1/keys/{name}/disable", Timeout: quick, Action: "keys:disable", Summary: "Disable a key"},
	{Name: RouteRevokeKey, Method: "POST", Path: "/v1/keys/{name}/revoke", Timeout: quick, Action: "keys:revoke",
		Summary: "Revoke a key for good"},
	{Name: RouteScheduleDel, Method: "POST", Path: "/v1/keys/{name}/schedule-deletion", BodyLimit: SmallBody, Timeout: quick, Action: "keys:schedule-deletion",
		Summary: "Schedule a key's destruction after a waiting period"},
	{Name: RouteCancelDel, Method: "POST", Path: "/v1/keys/{name}/cancel-deletion", Timeout: quick, Action: "keys:cancel-deletion",
		Summary: "Cancel a scheduled deletion"},
	{Name: RouteDestroyKey, Method: "POST", Path: "/v1/keys/{name}/destroy", Timeout: quick, Action: "keys:destroy",
		Summary: "Destroy a key whose deletion window has passed"},
	{Name: RoutePublicKey, Method: "GET", Path: "/v1/keys/{name}/public", Timeout: quick, Action: "keys:public",
		Summary: "A key's public key, PEM or DER SubjectPublicKeyInfo"},
	{Name: RouteExportKey, Method: "POST", Path: "/v1/keys/{name}/export", BodyLimit: SmallBody, Timeout: quick, Action: "keys:export",
		Summary: "Export an exportable key's material"},

	{Name: RouteEncrypt, Method: "POST", Path: "/v1/keys/{name}/encrypt", BodyLimit: DataBody, Timeout: quick, Action: "keys:encrypt",
		Summary: "Encrypt"},
	{Name: RouteDecryptKey, Method: "POST", Path: "/v1/keys/{name}/decrypt", BodyLimit: DataBody, Timeout: quick, Action: "keys:decrypt",
		Summary: "Decrypt under a named key (text or raw form)"},
	{Name: RouteDecrypt, Method: "POST", Path: "/v1/decrypt", BodyLimit: DataBody, Timeout: quick, Action: "keys:decrypt",
		Summary: "Decrypt a self-describing ciphertext"},
	{Name: RouteRewrap, Method: "POST", Path: "/v1/rewrap", BodyLimit: DataBody, Timeout: quick, Action: "keys:rewrap",
		Summary: "Re-encrypt under the key's primary version; the plaintext never leaves"},
	{Name: RouteEncryptBatch, Method: "POST", Path: "/v1/encrypt/batch", BodyLimit: BatchBody, Timeout: slow, Action: "keys:encrypt",
		Summary: "Encrypt many items; results in order, each with its own error"},
	{Name: RouteDecryptBatch, Method: "POST", Path: "/v1/decrypt/batch", BodyLimit: BatchBody, Timeout: slow, Action: "keys:decrypt",
		Summary: "Decrypt many items; results in order, each with its own error"},
	{Name: RouteDataKey, Method: "POST", Path: "/v1/keys/{name}/datakey", BodyLimit: SmallBody, Timeout: quick, Action: "keys:datakey",
		Summary: "Generate a data key, with or without its plaintext"},
	{Name: RouteSign, Method: "POST", Path: "/v1/keys/{name}/sign", BodyLimit: DataBody, Timeout: quick, Action: "keys:sign",
		Summary: "Sign a message or a digest"},
	{Name: RouteVerify, Method: "POST", Path: "/v1/keys/{name}/verify", BodyLimit: DataBody, Timeout: quick, Action: "keys:verify",
		Summary: "Verify a signature"},
	{Name: RouteMAC, Method: "POST", Path: "/v1/keys/{name}/mac", BodyLimit: DataBody, Timeout: quick, Action: "keys:mac",
		Summary: "Compute a MAC"},
	{Name: RouteVerifyMAC, Method: "POST", Path: "/v1/keys/{name}/verify-mac", BodyLimit: DataBody, Timeout: quick, Action: "keys:verify-mac",
		Summary: "Verify a MAC in constant time"},
	{Name: RouteAgree, Method: "POST", Path: "/v1/keys/{name}/agree", BodyLimit: SmallBody, Timeout: quick, Action: "keys:agree",
		Summary: "Key agreement: the shared secret, or a new aes256-gcm key derived with HKDF-SHA-256"},
}

// RouteByName returns the route with the given name; it panics on an
// unknown name, which is a programming error.
func RouteByName(name string) Route {
	for _, r := range Routes {
		if r.Name == name {
			return r
		}
	}
	panic("api: no route named " + name)
}
