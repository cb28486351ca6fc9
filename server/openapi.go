package server

import (
	"encoding/json"
	"path"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/keycustodian/custodian/api"
)

// openAPIDocument generates the OpenAPI 3 document of the route table:
// every route with its method, summary, parameters, security and bodies,
// the body schemas derived from package api's types by reflection, so
// that the document cannot drift from the code.
func openAPIDocument() ([]byte, error) {
	g := &schemaGen{schemas: map[string]any{}, named: map[string]reflect.Type{}}
	errorResp := obj{"description": "An error; docs/api.md lists the codes.",
		"content": obj{"application/json": obj{"schema": g.schema(reflect.TypeFor[api.ErrorBody]())}}}
	paths := map[string]obj{}
	for _, rt := range api.Routes {
		b := bindings[rt.Name]
		op := obj{
			"operationId":     rt.Name,
			"summary":         rt.Summary,
			"x-body-limit":    rt.BodyLimit,
			"x-timeout":       rt.Timeout.String(),
			"parameters":      g.parameters(rt, b),
			"responses":       obj{"200": g.success(rt, b), "default": errorResp},
			"x-policy-action": rt.Action,
		}
		if rt.Public {
			op["security"] = []obj{}
		} else {
			op["security"] = []obj{{"bearer": []string{}}}
		}
		if rt.Name == api.RouteHealth {
			op["responses"].(obj)["503"] = g.success(rt, b)
		}
		switch {
		case rt.Name == api.RouteRestore:
			op["requestBody"] = obj{"required": true, "content": obj{"application/octet-stream": obj{"schema": obj{"type": "string", "format": "binary"}}}}
		case b.req != nil:
			op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": g.schema(reflect.TypeOf(b.req))}}}
		}
		if paths[rt.Path] == nil {
			paths[rt.Path] = obj{}
		}
		paths[rt.Path][strings.ToLower(rt.Method)] = op
	}
	doc := obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":       "KeyCustodian native API",
			"version":     "1",
			"description": "JSON over HTTP; binary fields are standard base64. docs/api.md describes the API in prose.",
		},
		"paths": paths,
		"components": obj{
			"schemas":         g.schemas,
			"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer", "description": "the root token"}},
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

type obj = map[string]any

var wildcard = regexp.MustCompile(`\{([a-z_]+)\}`)

func (g *schemaGen) parameters(rt api.Route, b binding) []obj {
	out := []obj{}
	for _, m := range wildcard.FindAllStringSubmatch(rt.Path, -1) {
		out = append(out, obj{"name": m[1], "in": "path", "required": true, "schema": obj{"type": "string"},
			"description": "the key's name; a / in it is sent as %2F"})
	}
	for _, p := range b.query {
		out = append(out, obj{"name": p.Name, "in": "query", "schema": obj{"type": p.Type}, "description": p.Description})
	}
	if rt.Name == api.RouteRestore {
		out = append(out, obj{"name": api.HeaderShares, "in": "header", "schema": obj{"type": "string"},
			"description": "a quorum of the backup's unseal shares, comma-separated (Shamir seal)"})
	}
	return out
}

func (g *schemaGen) success(rt api.Route, b binding) obj {
	switch rt.Name {
	case api.RouteBackup:
		return obj{"description": "the backup file", "content": obj{"application/octet-stream": obj{"schema": obj{"type": "string", "format": "binary"}}}}
	case api.RouteOpenAPI:
		return obj{"description": "this document", "content": obj{"application/json": obj{"schema": obj{"type": "object"}}}}
	case api.RouteMetrics:
		return obj{"description": "Prometheus text exposition", "content": obj{"text/plain": obj{"schema": obj{"type": "string"}}}}
	}
	return obj{"description": "success", "content": obj{"application/json": obj{"schema": g.schema(reflect.TypeOf(b.resp))}}}
}

// schemaGen derives JSON schemas from Go types, as encoding/json encodes
// them, and names every struct in components.schemas.
type schemaGen struct {
	schemas map[string]any
	named   map[string]reflect.Type
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[api.Duration]()
)

func (g *schemaGen) schema(t reflect.Type) obj {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case timeType:
		return obj{"type": "string", "format": "date-time"}
	case durationType:
		return obj{"type": "string", "description": `a Go duration ("2160h0m0s"); on input also whole days ("90d")`}
	}
	switch t.Kind() {
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return obj{"type": "integer"}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return obj{"type": "string", "format": "byte"}
		}
		return obj{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return obj{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Struct:
		name := g.name(t)
		if _, done := g.schemas[name]; !done {
			g.schemas[name] = obj{} // placeholder: a recursive type ends here
			props := obj{}
			g.fields(t, props)
			g.schemas[name] = obj{"type": "object", "properties": props}
		}
		return obj{"$ref": "#/components/schemas/" + name}
	}
	return obj{}
}

// name is a struct's schema name: its Go name, qualified by its package
// when two packages use the same one.
func (g *schemaGen) name(t reflect.Type) string {
	name := t.Name()
	if other, ok := g.named[name]; ok && other != t {
		name = path.Base(t.PkgPath()) + "." + name
	}
	g.named[name] = t
	return name
}

// fields adds t's JSON fields to props: its own first, then those of
// embedded structs that no shallower field hides, as encoding/json does.
func (g *schemaGen) fields(t reflect.Type, props obj) {
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
			continue
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			embedded = append(embedded, f.Type)
			continue
		case !f.IsExported():
			continue
		case name == "":
			name = f.Name
		}
		props[name] = g.schema(f.Type)
	}
	for _, e := range embedded {
		inner := obj{}
		g.fields(e, inner)
		for k, v := range inner {
			if _, hidden := props[k]; !hidden {
				props[k] = v
			}
		}
	}
}
