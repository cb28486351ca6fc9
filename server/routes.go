package server

import (
	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
)

// binding is what the server adds to a route of api.Routes: its handler,
// the query parameters it takes, and its request and response bodies (zero
// values, for the OpenAPI document; nil for none).
type binding struct {
	handle    handlerFunc
	query     []param
	req, resp any
}

var (
	listQuery = []param{
		{"prefix", "string", "only keys whose names start with it"},
		{"page_size", "integer", "keys per page, 1 to 1000; 0 or absent means 100"},
		{"page_token", "string", "the next_page_token of the previous page"},
	}
	publicQuery = []param{
		{"format", "string", "pem (default) or der"},
		{"version", "integer", "key version; 0 or absent means the primary"},
	}
)

// bindings maps every route name of api.Routes to its handler. New
// refuses to start if a route has none; a test checks the converse.
var bindings = map[string]binding{
	api.RouteHealth:        {handle: (*Server).health, resp: api.HealthResponse{}},
	api.RouteSealStatus:    {handle: (*Server).sealStatus, resp: custodian.Status{}},
	api.RouteInit:          {handle: (*Server).initialize, req: api.InitRequest{}, resp: api.InitResponse{}},
	api.RouteUnseal:        {handle: (*Server).unseal, req: api.UnsealRequest{}, resp: custodian.Status{}},
	api.RouteSeal:          {handle: (*Server).seal, resp: custodian.Status{}},
	api.RouteRekey:         {handle: (*Server).rekey, req: api.RekeyRequest{}, resp: api.RekeyResponse{}},
	api.RouteRotateRoot:    {handle: (*Server).rotateRoot, req: api.RekeyRequest{}, resp: api.RekeyResponse{}},
	api.RouteBackup:        {handle: (*Server).backup},
	api.RouteRestore:       {handle: (*Server).restore, resp: api.RestoreResponse{}},
	api.RouteRotateDueKeys: {handle: (*Server).rotateDueKeys, resp: api.RotateDueKeysResponse{}},
	api.RouteRootToken:     {handle: (*Server).rootToken, req: api.RootTokenRequest{}, resp: api.RootTokenResponse{}},
	api.RouteOpenAPI:       {handle: (*Server).openAPI},
	api.RouteMetrics:       {handle: (*Server).metricsPage},
	api.RouteRandom:        {handle: (*Server).random, req: api.RandomRequest{}, resp: api.RandomResponse{}},

	api.RouteCreateKey:   {handle: (*Server).createKey, req: api.CreateKeyRequest{}, resp: api.Key{}},
	api.RouteImportKey:   {handle: (*Server).importKey, req: api.ImportKeyRequest{}, resp: api.Key{}},
	api.RouteListKeys:    {handle: (*Server).listKeys, query: listQuery, resp: api.ListKeysResponse{}},
	api.RouteGetKey:      {handle: (*Server).getKey, resp: api.Key{}},
	api.RouteUpdateKey:   {handle: (*Server).updateKey, req: api.UpdateKeyRequest{}, resp: api.Key{}},
	api.RouteRotateKey:   {handle: (*Server).rotateKey, resp: api.Key{}},
	api.RouteEnableKey:   {handle: (*Server).enableKey, resp: api.Key{}},
	api.RouteDisableKey:  {handle: (*Server).disableKey, resp: api.Key{}},
	api.RouteRevokeKey:   {handle: (*Server).revokeKey, resp: api.Key{}},
	api.RouteScheduleDel: {handle: (*Server).scheduleDeletion, req: api.ScheduleDeletionRequest{}, resp: api.Key{}},
	api.RouteCancelDel:   {handle: (*Server).cancelDeletion, resp: api.Key{}},
	api.RouteDestroyKey:  {handle: (*Server).destroyKey, resp: api.Key{}},
	api.RoutePublicKey:   {handle: (*Server).publicKey, query: publicQuery, resp: api.PublicKeyResponse{}},
	api.RouteExportKey:   {handle: (*Server).exportKey, req: api.ExportKeyRequest{}, resp: api.ExportKeyResponse{}},

	api.RouteEncrypt:      {handle: (*Server).encrypt, req: api.EncryptRequest{}, resp: api.EncryptResponse{}},
	api.RouteDecryptKey:   {handle: (*Server).decryptKey, req: api.DecryptRequest{}, resp: api.DecryptResponse{}},
	api.RouteDecrypt:      {handle: (*Server).decrypt, req: api.DecryptRequest{}, resp: api.DecryptResponse{}},
	api.RouteRewrap:       {handle: (*Server).rewrap, req: api.RewrapRequest{}, resp: api.RewrapResponse{}},
	api.RouteEncryptBatch: {handle: (*Server).encryptBatch, req: api.BatchEncryptRequest{}, resp: api.BatchEncryptResponse{}},
	api.RouteDecryptBatch: {handle: (*Server).decryptBatch, req: api.BatchDecryptRequest{}, resp: api.BatchDecryptResponse{}},
	api.RouteDataKey:      {handle: (*Server).dataKey, req: api.DataKeyRequest{}, resp: api.DataKeyResponse{}},
	api.RouteSign:         {handle: (*Server).sign, req: api.SignRequest{}, resp: api.SignResponse{}},
	api.RouteVerify:       {handle: (*Server).verify, req: api.SignRequest{}, resp: api.VerifyResponse{}},
	api.RouteMAC:          {handle: (*Server).mac, req: api.MACRequest{}, resp: api.MACResponse{}},
	api.RouteVerifyMAC:    {handle: (*Server).verifyMAC, req: api.MACRequest{}, resp: api.VerifyResponse{}},
	api.RouteAgree:        {handle: (*Server).agree, req: api.AgreeRequest{}, resp: api.AgreeResponse{}},
}
