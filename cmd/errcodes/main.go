// Command errcodes lists every error code the server can answer with, read from the Go source,
// and writes them for the SPA (web/src/i18n/errorCodes.gen.ts). The pt-BR catalogue must have a
// message for each one, so a code added on the server without a translation fails the SPA's type
// check (`npm run build`, `npm run typecheck`) and `make docs-check` fails while the list is stale.
//
// A code is what reaches the Code field of an apperr.Error, an apperr.FieldError or an
// api.Problem, in a literal or an assignment. The tool follows it back to string constants
// through the functions that pass a parameter on (apperr.New, Fields.Add, a package's own
// helpers), local variables and struct fields set in literals. `expr + "_invalid"` is a family:
// every code with that suffix, translated by one message (error.*_invalid). A code it cannot follow
// to a constant is an error, so the list cannot be silently incomplete.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/constant"
	"go/types"
	"os"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"
)

const (
	apperrPath = "github.com/atendimento/atendimento/internal/apperr"
	apiPath    = "github.com/atendimento/atendimento/api"
)

func main() {
	out := flag.String("out", "web/src/i18n/errorCodes.gen.ts", "the TypeScript file to write")
	flag.Parse()
	codes, families, err := scan(flag.Args()...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "errcodes:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, render(codes, families), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "errcodes:", err)
		os.Exit(1)
	}
}

// scan loads the packages matching patterns (default ./...) and returns their codes and code
// families (suffixes), each sorted.
func scan(patterns ...string) (codes, families []string, err error) {
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, nil, err
	}
	s := &scanner{codes: map[string]bool{}, families: map[string]bool{}, forwarders: map[*types.Func]map[int]bool{}, fields: map[*types.Var]bool{}}
	for _, p := range pkgs {
		if len(p.Errors) > 0 {
			return nil, nil, fmt.Errorf("%s: %v", p.PkgPath, p.Errors[0])
		}
	}
	// Forwarders and fields are found while scanning; scan again until nothing new is found, so a
	// call scanned before its callee was known to forward is read on the next round.
	for round := 0; ; round++ {
		before := s.size()
		s.bad = nil
		for _, p := range pkgs {
			for _, f := range p.Syntax {
				s.file(p, f)
			}
		}
		if s.size() == before || round > 10 {
			break
		}
	}
	if len(s.bad) > 0 {
		slices.Sort(s.bad)
		return nil, nil, fmt.Errorf("codes this tool cannot follow to a constant (use a constant, a local variable, a parameter or a struct field set from constants):\n  %s", strings.Join(slices.Compact(s.bad), "\n  "))
	}
	return sorted(s.codes), sorted(s.families), nil
}

type scanner struct {
	codes, families map[string]bool
	// forwarders maps a function to the indexes of its parameters that become a code.
	forwarders map[*types.Func]map[int]bool
	// fields are struct fields whose values become a code.
	fields map[*types.Var]bool
	bad    []string
}

func (s *scanner) size() int {
	n := len(s.codes) + len(s.families) + len(s.fields)
	for _, ix := range s.forwarders {
		n += len(ix)
	}
	return n
}

func (s *scanner) file(p *packages.Package, f *ast.File) {
	info := p.TypesInfo
	var fn *ast.FuncDecl // the function being walked
	var code func(e ast.Expr)
	code = func(e ast.Expr) {
		e = ast.Unparen(e)
		if tv, ok := info.Types[e]; ok && tv.Value != nil && tv.Value.Kind() == constant.String {
			if v := constant.StringVal(tv.Value); v != "" {
				s.codes[v] = true
			}
			return
		}
		switch e := e.(type) {
		case *ast.BinaryExpr: // field + "_invalid": a family
			if tv := info.Types[e.Y]; tv.Value != nil && tv.Value.Kind() == constant.String {
				s.families[constant.StringVal(tv.Value)] = true
				return
			}
		case *ast.Ident:
			if v, ok := info.Uses[e].(*types.Var); ok && fn != nil {
				if i := paramIndex(info, fn, v); i >= 0 {
					if obj, ok := info.Defs[fn.Name].(*types.Func); ok {
						if s.forwarders[obj] == nil {
							s.forwarders[obj] = map[int]bool{}
						}
						s.forwarders[obj][i] = true
						return
					}
				}
				if vals := assignedIn(info, fn.Body, v); len(vals) > 0 {
					for _, val := range vals {
						code(val)
					}
					return
				}
			}
		case *ast.IndexExpr: // httpCodes[status]: every value of the map or slice literal
			if id, ok := ast.Unparen(e.X).(*ast.Ident); ok {
				if v, ok := info.Uses[id].(*types.Var); ok {
					if lit := declaredLiteral(p, v); lit != nil {
						for _, el := range lit.Elts {
							if kv, ok := el.(*ast.KeyValueExpr); ok {
								el = kv.Value
							}
							code(el)
						}
						return
					}
				}
			}
		case *ast.SelectorExpr:
			if v, ok := info.Uses[e.Sel].(*types.Var); ok && v.IsField() {
				s.fields[v] = true
				return
			}
		}
		s.bad = append(s.bad, fmt.Sprintf("%s: %s", p.Fset.Position(e.Pos()), types.ExprString(e)))
	}
	for _, decl := range f.Decls {
		fn, _ = decl.(*ast.FuncDecl)
		ast.Inspect(decl, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if ix := s.forwarders[callee(info, n)]; ix != nil {
					for i := range ix {
						if i < len(n.Args) {
							code(n.Args[i])
						}
					}
				}
			case *ast.CompositeLit:
				t := info.TypeOf(n)
				st, _ := deref(t).Underlying().(*types.Struct)
				if st == nil {
					return true
				}
				for i, el := range n.Elts {
					var field *types.Var
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						if id, ok := kv.Key.(*ast.Ident); ok {
							field, _ = info.Uses[id].(*types.Var)
						}
						el = kv.Value
					} else if i < st.NumFields() {
						field = st.Field(i)
					}
					if field == nil {
						continue
					}
					if s.fields[field] || (field.Name() == "Code" && codeCarrier(t)) {
						code(el)
					}
				}
			case *ast.AssignStmt:
				for i, lhs := range n.Lhs {
					sel, ok := lhs.(*ast.SelectorExpr)
					if !ok || sel.Sel.Name != "Code" || !codeCarrier(info.TypeOf(sel.X)) || len(n.Rhs) != len(n.Lhs) {
						continue
					}
					if r, ok := ast.Unparen(n.Rhs[i]).(*ast.SelectorExpr); ok && r.Sel.Name == "Code" && codeCarrier(info.TypeOf(r.X)) {
						continue // copied from another carrier (p.Code = ae.Code): found where it was made
					}
					code(n.Rhs[i])
				}
			}
			return true
		})
	}
}

// paramIndex is v's index among fn's parameters, or -1.
func paramIndex(info *types.Info, fn *ast.FuncDecl, v *types.Var) int {
	i := 0
	for _, field := range fn.Type.Params.List {
		for _, name := range field.Names {
			if info.Defs[name] == v {
				return i
			}
			i++
		}
		if len(field.Names) == 0 {
			i++
		}
	}
	return -1
}

// declaredLiteral is the composite literal a package-level variable of p is declared with.
func declaredLiteral(p *packages.Package, v *types.Var) *ast.CompositeLit {
	for _, f := range p.Syntax {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gd.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if !ok {
					continue
				}
				for i, name := range vs.Names {
					if p.TypesInfo.Defs[name] == v && i < len(vs.Values) {
						lit, _ := vs.Values[i].(*ast.CompositeLit)
						return lit
					}
				}
			}
		}
	}
	return nil
}

// assignedIn lists the values body assigns to the local variable v.
func assignedIn(info *types.Info, body *ast.BlockStmt, v *types.Var) []ast.Expr {
	if body == nil {
		return nil
	}
	var out []ast.Expr
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if len(n.Lhs) != len(n.Rhs) {
				return true
			}
			for i, lhs := range n.Lhs {
				if id, ok := lhs.(*ast.Ident); ok && (info.Defs[id] == v || info.Uses[id] == v) {
					out = append(out, n.Rhs[i])
				}
			}
		case *ast.ValueSpec:
			for i, name := range n.Names {
				if info.Defs[name] == v && i < len(n.Values) {
					out = append(out, n.Values[i])
				}
			}
		}
		return true
	})
	return out
}

// callee is the function or method a call names, if it is one.
func callee(info *types.Info, call *ast.CallExpr) *types.Func {
	var id *ast.Ident
	switch fun := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		id = fun
	case *ast.SelectorExpr:
		id = fun.Sel
	default:
		return nil
	}
	fn, _ := info.Uses[id].(*types.Func)
	if fn != nil {
		fn = fn.Origin()
	}
	return fn
}

func deref(t types.Type) types.Type {
	if t == nil {
		return types.Typ[types.Invalid]
	}
	if p, ok := t.Underlying().(*types.Pointer); ok {
		return p.Elem()
	}
	return t
}

// codeCarrier reports whether t (or what it points to) is a type whose Code field is an error code.
func codeCarrier(t types.Type) bool {
	named, ok := deref(t).(*types.Named)
	if !ok || named.Obj().Pkg() == nil {
		return false
	}
	switch named.Obj().Pkg().Path() + "." + named.Obj().Name() {
	case apperrPath + ".Error", apperrPath + ".FieldError", apiPath + ".Problem":
		return true
	}
	return false
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func render(codes, families []string) []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated by cmd/errcodes from the Go source; DO NOT EDIT. Run `make docs`.\n")
	b.WriteString("// Every error code the server can answer with: pt-BR.ts must have a message for each one\n")
	b.WriteString("// (error.<code>), and one for each family of codes built from a field's name (error.*<suffix>).\n\n")
	b.WriteString("export const errorCodes = [\n")
	for _, c := range codes {
		fmt.Fprintf(&b, "  '%s',\n", c)
	}
	b.WriteString("] as const\n\nexport const errorCodeFamilies = [\n")
	for _, c := range families {
		fmt.Fprintf(&b, "  '*%s',\n", c)
	}
	b.WriteString("] as const\n\nexport type ErrorCode = (typeof errorCodes)[number]\nexport type ErrorCodeFamily = (typeof errorCodeFamilies)[number]\n")
	return b.Bytes()
}
