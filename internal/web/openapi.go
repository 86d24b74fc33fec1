package web

import (
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// OpenAPI builds the OpenAPI 3 document from the registered API routes, so
// it cannot drift from the handlers; a test also checks real responses
// against it.
func (s *Server) OpenAPI() map[string]any {
	paths := map[string]any{}
	for _, rt := range s.routes {
		if !rt.API {
			continue
		}
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		status := rt.Doc.Status
		if status == 0 {
			status = http.StatusOK
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range rt.Doc.Query {
			params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]any{"type": "string"}})
		}
		resp := map[string]any{"description": http.StatusText(status)}
		if rt.Doc.Response != nil {
			resp["content"] = map[string]any{"application/json": map[string]any{"schema": Schema(reflect.TypeOf(rt.Doc.Response))}}
		}
		op := map[string]any{
			"summary":     rt.Doc.Summary,
			"operationId": strings.ToLower(rt.Method) + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_").Replace(rt.Path),
			"responses": map[string]any{
				itoa(status): resp,
				"default":    map[string]any{"description": "error", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}},
			},
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.Doc.Request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": Schema(reflect.TypeOf(rt.Doc.Request))}}}
		}
		if rt.Public {
			op["security"] = []any{}
		}
		item[strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi":  "3.0.3",
		"info":     map[string]any{"title": "vigil API", "version": "1", "description": "Security operations platform API. Authenticate with a session cookie (POST /auth/login) or an API token as Authorization: Bearer."},
		"servers":  []any{map[string]any{"url": "/api/v1"}},
		"paths":    paths,
		"security": []any{map[string]any{"bearer": []any{}}, map[string]any{"cookie": []any{}}},
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer"},
				"cookie": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie},
			},
			"schemas": map[string]any{"Error": map[string]any{"type": "object", "required": []string{"error"}, "properties": map[string]any{
				"error": map[string]any{"type": "object", "required": []string{"code", "message"}, "properties": map[string]any{
					"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"},
					"field": map[string]any{"type": "string"}, "request_id": map[string]any{"type": "string"}}}}}},
		},
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

var timeType = reflect.TypeOf(time.Time{})

// Schema derives a JSON Schema (OpenAPI 3.0 dialect) from a Go type using
// its json tags. Pointers are nullable.
func Schema(t reflect.Type) map[string]any {
	nullable := false
	for t.Kind() == reflect.Pointer {
		t, nullable = t.Elem(), true
	}
	var out map[string]any
	switch {
	case t == timeType:
		out = map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.String:
		out = map[string]any{"type": "string"}
	case t.Kind() == reflect.Bool:
		out = map[string]any{"type": "boolean"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		out = map[string]any{"type": "integer"}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		out = map[string]any{"type": "number"}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 && t.Name() == "RawMessage":
		out = map[string]any{}
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		out = map[string]any{"type": "array", "items": Schema(t.Elem())}
		nullable = true // a nil slice encodes as null
	case t.Kind() == reflect.Map:
		out = map[string]any{"type": "object", "additionalProperties": Schema(t.Elem())}
		nullable = true
	case t.Kind() == reflect.Struct:
		props := map[string]any{}
		var required []string
		addFields(t, props, &required)
		out = map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			out["required"] = required
		}
	default:
		out = map[string]any{}
	}
	if nullable {
		out["nullable"] = true
	}
	return out
}

func addFields(t reflect.Type, props map[string]any, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			addFields(ft, props, required)
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = Schema(f.Type)
		if !strings.Contains(opts, "omitempty") {
			*required = append(*required, name)
		}
	}
}
