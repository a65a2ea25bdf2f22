// Command pulumi-language-nodejs is a small, self-written stand-in for Pulumi's
// Node.js language host.
//
// Why it exists: the upstream host is its own Go module nested inside the
// Pulumi repository (sdk/nodejs/cmd/pulumi-language-nodejs), and that module is
// not served by the Go module proxy this project can reach, while the CLI
// (github.com/pulumi/pulumi/pkg/v3) and the SDK (github.com/pulumi/pulumi/sdk/v3)
// are. This host implements the LanguageRuntime gRPC service from the SDK
// module and hands the real work to the JavaScript side that ships in the
// @pulumi/pulumi npm package (`@pulumi/pulumi/cmd/run`, `cmd/run-plugin`,
// `cmd/run-policy-pack`), exactly as the upstream host does.
//
// Supported: Handshake, GetPluginInfo, GetRequiredPlugins/GetRequiredPackages
// (Pulumi resource packages reachable from the program's package.json),
// Run (preview/up/destroy/refresh), RunPlugin (policy packs and Node.js
// provider plugins), About, GetProgramDependencies, InstallDependencies (a
// no-op: the repository installs its node_modules with npm ci), Cancel.
// Not supported: code generation (GenerateProgram/Project/Package), Pack,
// Link, Template, RuntimeOptionsPrompts.
//
// Runtime options read from Pulumi.yaml (`runtime.options`), with the same
// meaning as upstream:
//
//	typescript: bool   default true; sets PULUMI_NODEJS_TYPESCRIPT so that
//	                   @pulumi/pulumi registers ts-node itself
//	nodeargs:   string extra arguments for node, split on white space
//	                   (e.g. "--import tsx")
//	tsconfig:   string sets PULUMI_NODEJS_TSCONFIG_PATH
//
// The node binary is the first `node` on PATH, or $PULUMI_NODEJS_NODE_BINARY.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Exit code the @pulumi/pulumi run scripts use when the error was already
// reported to the engine (the engine then "bails" without printing it again).
const exitCodeAlreadyReported = 32

func main() {
	var tracing string
	flag.StringVar(&tracing, "tracing", "", "Zipkin-compatible tracing endpoint (passed on to node)")
	// -v and --logtostderr (passed by the engine when it flows logging) are glog's own flags,
	// registered by the logging package.
	// Accepted for compatibility with the upstream host; unused.
	flag.String("root", "", "project root (unused)")
	flag.String("binary", "", "unused")
	flag.Bool("typescript", true, "unused")
	flag.String("nodeargs", "", "unused")
	flag.String("packagemanager", "", "unused")
	flag.Parse()
	logging.InitLogging(false, 0, false)

	host := &nodeHost{tracing: tracing, cancel: make(chan bool)}
	if args := flag.Args(); len(args) > 0 {
		host.engineAddress = args[0]
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: host.cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: rpcutil.TracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start the RPC server: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from our first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: RPC server stopped: %v\n", err)
		os.Exit(1)
	}
}

type nodeHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	tracing       string
	cancel        chan bool
	children      map[*exec.Cmd]struct{}
}

// ---- helpers ---------------------------------------------------------------

type runtimeOptions struct {
	typescript bool
	nodeargs   []string
	tsconfig   string
}

func optionsOf(info *pulumirpc.ProgramInfo) runtimeOptions {
	opts := runtimeOptions{typescript: true}
	if info == nil || info.GetOptions() == nil {
		return opts
	}
	m := info.GetOptions().AsMap()
	if v, ok := m["typescript"]; ok {
		switch t := v.(type) {
		case bool:
			opts.typescript = t
		case string:
			opts.typescript = t == "true"
		}
	}
	if v, ok := m["nodeargs"].(string); ok {
		opts.nodeargs = strings.Fields(v)
	}
	if v, ok := m["tsconfig"].(string); ok {
		opts.tsconfig = v
	}
	return opts
}

func nodeBinary() (string, error) {
	if b := os.Getenv("PULUMI_NODEJS_NODE_BINARY"); b != "" {
		return b, nil
	}
	p, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("could not find node on PATH: %w", err)
	}
	return p, nil
}

// findUp looks for rel in dir and each of its parents, like Node's module resolution.
func findUp(dir, rel string) (string, bool) {
	dir, _ = filepath.Abs(dir)
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// sdkScript locates @pulumi/pulumi/cmd/<name> as seen from the program directory.
func sdkScript(programDir, name string) (string, error) {
	if name == "run" {
		if p := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH"); p != "" {
			return p, nil
		}
	}
	p, ok := findUp(programDir, filepath.Join("node_modules", "@pulumi", "pulumi", "cmd", name))
	if !ok {
		return "", fmt.Errorf("could not find @pulumi/pulumi/cmd/%s from %s: "+
			"is @pulumi/pulumi installed (npm ci)?", name, programDir)
	}
	return p, nil
}

func programDirOf(info *pulumirpc.ProgramInfo, fallback string) string {
	if info != nil && info.GetProgramDirectory() != "" {
		return info.GetProgramDirectory()
	}
	if fallback != "" {
		return fallback
	}
	wd, _ := os.Getwd()
	return wd
}

func (h *nodeHost) track(cmd *exec.Cmd, add bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.children == nil {
		h.children = map[*exec.Cmd]struct{}{}
	}
	if add {
		h.children[cmd] = struct{}{}
	} else {
		delete(h.children, cmd)
	}
}

func exitCodeOf(err error) (int, bool) {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
			if ws.Signaled() {
				return 128 + int(ws.Signal()), true
			}
			return ws.ExitStatus(), true
		}
		return ee.ExitCode(), true
	}
	return 0, false
}

// ---- package discovery -----------------------------------------------------

type packageJSON struct {
	Name                 string            `json:"name"`
	Version              string            `json:"version"`
	Dependencies         map[string]string `json:"dependencies"`
	DevDependencies      map[string]string `json:"devDependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	Pulumi               struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"pulumi"`
}

func readPackageJSON(path string) (*packageJSON, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p packageJSON
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return &p, nil
}

// resolvePackage finds node_modules/<name>/package.json from dir upwards.
func resolvePackage(dir, name string) (string, bool) {
	return findUp(dir, filepath.Join("node_modules", filepath.FromSlash(name), "package.json"))
}

// resourcePackages walks the dependency graph declared by the program's nearest
// package.json (dependencies, devDependencies, optionalDependencies, then the
// runtime dependencies of each package) and returns the Pulumi resource
// packages among them. Only what the program declares counts, so a program in
// a subfolder of a repository with its own package.json sees only its own.
func resourcePackages(programDir string) ([]*pulumirpc.PackageDependency, error) {
	root, ok := findUp(programDir, "package.json")
	if !ok {
		return nil, nil
	}
	top, err := readPackageJSON(root)
	if err != nil {
		return nil, err
	}
	type item struct{ dir, name string }
	var queue []item
	add := func(dir string, deps ...map[string]string) {
		for _, m := range deps {
			names := make([]string, 0, len(m))
			for n := range m {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				queue = append(queue, item{dir, n})
			}
		}
	}
	add(filepath.Dir(root), top.Dependencies, top.DevDependencies, top.OptionalDependencies)

	seen := map[string]bool{}
	var out []*pulumirpc.PackageDependency
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		pj, ok := resolvePackage(it.dir, it.name)
		if !ok || seen[pj] {
			continue
		}
		seen[pj] = true
		p, err := readPackageJSON(pj)
		if err != nil {
			return nil, err
		}
		if p.Pulumi.Resource {
			name := p.Pulumi.Name
			if name == "" {
				name = strings.TrimPrefix(p.Name, "@pulumi/")
				name = strings.TrimPrefix(name, "@")
			}
			v := p.Pulumi.Version
			if v == "" {
				v = p.Version
			}
			if v != "" && !strings.HasPrefix(v, "v") {
				v = "v" + v
			}
			out = append(out, &pulumirpc.PackageDependency{
				Name: name, Kind: "resource", Version: v, Server: p.Pulumi.Server,
			})
		}
		add(filepath.Dir(pj), p.Dependencies, p.OptionalDependencies)
	}
	return out, nil
}

// ---- RPCs ------------------------------------------------------------------

func (h *nodeHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *nodeHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

func (h *nodeHost) GetRequiredPackages(
	_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	pkgs, err := resourcePackages(programDirOf(req.GetInfo(), ""))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: pkgs}, nil
}

func (h *nodeHost) GetRequiredPlugins(
	_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	pkgs, err := resourcePackages(programDirOf(req.GetInfo(), req.GetPwd()))
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(pkgs))
	for _, p := range pkgs {
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: p.Name, Kind: p.Kind, Version: p.Version, Server: p.Server,
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

func (h *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	programDir := programDirOf(info, req.GetPwd())
	opts := optionsOf(info)

	node, err := nodeBinary()
	if err != nil {
		return nil, err
	}
	runPath, err := sdkScript(programDir, "run")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	h.mu.Lock()
	engine := h.engineAddress
	h.mu.Unlock()

	args := append([]string{}, opts.nodeargs...)
	args = append(args, runPath)
	flagArg := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	flagArg("monitor", req.GetMonitorAddress())
	flagArg("engine", engine)
	flagArg("organization", req.GetOrganization())
	flagArg("project", req.GetProject())
	flagArg("stack", req.GetStack())
	flagArg("pwd", req.GetPwd())
	if info != nil {
		flagArg("root-directory", info.GetRootDirectory())
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() > 0 {
		flagArg("parallel", fmt.Sprint(req.GetParallel()))
	}
	flagArg("tracing", h.tracing)
	entry := "."
	if info != nil && info.GetEntryPoint() != "" {
		entry = info.GetEntryPoint()
	} else if req.GetProgram() != "" {
		entry = req.GetProgram()
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	configMap := req.GetConfig()
	if configMap == nil {
		configMap = map[string]string{} // "{}", not "null": the SDK does Object.keys on it
	}
	config, err := json.Marshal(configMap)
	if err != nil {
		return nil, fmt.Errorf("serializing config: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("serializing secret keys: %w", err)
	}
	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretJSON),
		fmt.Sprintf("PULUMI_NODEJS_TYPESCRIPT=%t", opts.typescript),
	)
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}
	logging.V(5).Infof("language host launching: %s %s", node, strings.Join(args, " "))

	cmd := exec.Command(node, args...)
	cmd.Dir = programDir
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not start node: %v", err)}, nil
	}
	h.track(cmd, true)
	err = cmd.Wait()
	h.track(cmd, false)
	if err == nil {
		return &pulumirpc.RunResponse{}, nil
	}
	if code, ok := exitCodeOf(err); ok {
		if code == exitCodeAlreadyReported {
			return &pulumirpc.RunResponse{Bail: true}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", code)}, nil
	}
	return &pulumirpc.RunResponse{Error: fmt.Sprintf("Problem executing program: %v", err)}, nil
}

// streamWriter forwards a child's output to a RunPlugin stream.
type streamWriter struct {
	mu     *sync.Mutex
	stream grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	b := bytes.Clone(p)
	resp := &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	if w.stderr {
		resp = &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.stream.Send(resp); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h *nodeHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, stream grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	info := req.GetInfo()
	programDir := programDirOf(info, req.GetProgram())
	opts := optionsOf(info)
	node, err := nodeBinary()
	if err != nil {
		return err
	}

	args := append([]string{}, opts.nodeargs...)
	switch req.GetKind() {
	case "analyzer":
		script, err := sdkScript(programDir, "run-policy-pack")
		if err != nil {
			return err
		}
		// usage: run-policy-pack <engine-address> <program>
		args = append(args, script)
		args = append(args, req.GetArgs()...)
		args = append(args, programDir)
	default:
		script, err := sdkScript(programDir, "run-plugin")
		if err != nil {
			return err
		}
		// usage: run-plugin <program> [args to the provider]
		args = append(args, script, programDir)
		args = append(args, req.GetArgs()...)
	}

	env := req.GetEnv()
	if len(env) == 0 {
		env = os.Environ()
	}
	env = append(env, fmt.Sprintf("PULUMI_NODEJS_TYPESCRIPT=%t", opts.typescript))
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	var mu sync.Mutex
	cmd := exec.Command(node, args...)
	cmd.Dir = programDir
	cmd.Env = env
	cmd.Stdout = streamWriter{mu: &mu, stream: stream}
	cmd.Stderr = streamWriter{mu: &mu, stream: stream, stderr: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	h.track(cmd, true)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-stream.Context().Done():
		_ = cmd.Process.Kill()
		err = <-done
	}
	h.track(cmd, false)

	code := 0
	if err != nil {
		c, ok := exitCodeOf(err)
		if !ok {
			return err
		}
		code = c
	}
	mu.Lock()
	defer mu.Unlock()
	return stream.Send(&pulumirpc.RunPluginResponse{
		Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)},
	})
}

func (h *nodeHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, stream grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	msg := "pulumi-language-nodejs (repository build): dependencies are not installed by the language host; " +
		"run `npm ci` at the repository root\n"
	return stream.Send(&pulumirpc.InstallDependenciesResponse{Stderr: []byte(msg)})
}

func (h *nodeHost) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := nodeBinary()
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("running %s --version: %w", node, err)
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}

func (h *nodeHost) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := programDirOf(req.GetInfo(), req.GetPwd())
	root, ok := findUp(dir, "package.json")
	if !ok {
		return &pulumirpc.GetProgramDependenciesResponse{}, nil
	}
	top, err := readPackageJSON(root)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range []map[string]string{top.Dependencies, top.DevDependencies} {
		for n := range m {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var deps []*pulumirpc.DependencyInfo
	for _, n := range names {
		pj, ok := resolvePackage(filepath.Dir(root), n)
		if !ok {
			continue
		}
		if p, err := readPackageJSON(pj); err == nil {
			deps = append(deps, &pulumirpc.DependencyInfo{Name: n, Version: p.Version})
		}
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

func (h *nodeHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cmd := range h.children {
		if cmd.Process != nil {
			_ = cmd.Process.Signal(os.Interrupt)
		}
	}
	return &emptypb.Empty{}, nil
}

var _ io.Writer = streamWriter{}
