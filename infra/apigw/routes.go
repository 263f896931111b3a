// Package apigw is a local API Gateway HTTP API in front of pargate's real Lambda
// bootstraps (infra/lambdaemu): what `sam local start-api` does, without Docker. Its
// routes are template.yaml's AWS::ApiGatewayV2::Route resources and their
// integrations; each request becomes a payload format 2.0 event as API Gateway builds
// it, the function's response is mapped back the way API Gateway maps it, and the
// limits of API Gateway and Lambda answer as they do.
package apigw

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Route is one AWS::ApiGatewayV2::Route and the function its integration invokes.
type Route struct {
	// Key is the RouteKey, e.g. "ANY /par"; Method is its method (ANY matches all)
	// and Path its path.
	Key, Method, Path string
	// Function is the integrated function's LogicalId (ParFunction).
	Function string
}

var (
	resourceLine = regexp.MustCompile(`^  ([A-Za-z0-9]+):\s*$`)
	propertyLine = regexp.MustCompile(`^\s+(Type|RouteKey|Target|IntegrationUri|IntegrationType|PayloadFormatVersion):\s*(.+?)\s*$`)
	targetSub    = regexp.MustCompile(`^!Sub\s+"?integrations/\$\{([A-Za-z0-9]+)\}"?$`)
	getAttArn    = regexp.MustCompile(`^!GetAtt\s+([A-Za-z0-9]+)\.Arn$`)
)

// LoadRoutes reads the routes of root/template.yaml.
func LoadRoutes(root string) ([]Route, error) {
	yml, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	routes, err := ParseRoutes(yml)
	if err != nil {
		return nil, fmt.Errorf("template.yaml: %w", err)
	}
	return routes, nil
}

// ParseRoutes reads the AWS::ApiGatewayV2::Route resources of a SAM template (written
// as template.yaml is: resources at two spaces under Resources:) and resolves each
// Target (!Sub "integrations/${XIntegration}") to the AWS_PROXY integration's
// function (IntegrationUri: !GetAtt XFunction.Arn). A route whose target cannot be
// resolved, or an integration that is not a payload 2.0 Lambda proxy, is an error
// rather than a route left out.
func ParseRoutes(yml []byte) ([]Route, error) {
	type resource struct{ props map[string]string }
	resources := map[string]*resource{}
	var cur *resource
	inResources := false
	sc := bufio.NewScanner(bytes.NewReader(yml))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t")
		if line == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if !strings.HasPrefix(line, " ") {
			inResources = line == "Resources:"
			cur = nil
			continue
		}
		if !inResources {
			continue
		}
		if m := resourceLine.FindStringSubmatch(line); m != nil {
			cur = &resource{props: map[string]string{}}
			resources[m[1]] = cur
			continue
		}
		if m := propertyLine.FindStringSubmatch(line); m != nil && cur != nil {
			if _, seen := cur.props[m[1]]; !seen {
				cur.props[m[1]] = unquote(m[2])
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var routes []Route
	for name, r := range resources {
		if r.props["Type"] != "AWS::ApiGatewayV2::Route" {
			continue
		}
		key := r.props["RouteKey"]
		method, path, ok := strings.Cut(key, " ")
		if !ok || !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("%s: RouteKey %q is not \"METHOD /path\"", name, key)
		}
		m := targetSub.FindStringSubmatch(r.props["Target"])
		if m == nil {
			return nil, fmt.Errorf("%s: Target %q is not !Sub \"integrations/${Integration}\"", name, r.props["Target"])
		}
		integ, ok := resources[m[1]]
		if !ok || integ.props["Type"] != "AWS::ApiGatewayV2::Integration" {
			return nil, fmt.Errorf("%s: Target names %s, which is not an AWS::ApiGatewayV2::Integration", name, m[1])
		}
		if t, v := integ.props["IntegrationType"], integ.props["PayloadFormatVersion"]; t != "AWS_PROXY" || v != "2.0" {
			return nil, fmt.Errorf("%s: IntegrationType %q, PayloadFormatVersion %q: only AWS_PROXY 2.0 is emulated", m[1], t, v)
		}
		fn := getAttArn.FindStringSubmatch(integ.props["IntegrationUri"])
		if fn == nil {
			return nil, fmt.Errorf("%s: IntegrationUri %q is not !GetAtt Function.Arn", m[1], integ.props["IntegrationUri"])
		}
		routes = append(routes, Route{Key: key, Method: method, Path: path, Function: fn[1]})
	}
	if len(routes) == 0 {
		return nil, fmt.Errorf("no AWS::ApiGatewayV2::Route resources")
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].Key < routes[j].Key })
	return routes, nil
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v
}

// match finds the route of a request as API Gateway does for these routes (no path
// variables or greedy paths in template.yaml): the exact "METHOD /path" first, then
// "ANY /path". Paths match case-sensitively.
func match(routes []Route, method, path string) (Route, bool) {
	var anyRoute *Route
	for i, r := range routes {
		if r.Path != path {
			continue
		}
		if r.Method == method {
			return r, true
		}
		if r.Method == "ANY" {
			anyRoute = &routes[i]
		}
	}
	if anyRoute != nil {
		return *anyRoute, true
	}
	return Route{}, false
}
