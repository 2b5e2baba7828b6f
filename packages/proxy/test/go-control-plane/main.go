// A third-party xDS server for skein-proxy's tests, built on go-control-plane: it serves a
// fixed Cluster/ClusterLoadAssignment/Listener/RouteConfiguration snapshot over ADS (state of
// the world and delta) and replaces it when told on stdin ("route <cluster>"), printing
// "ready <port>" once it listens and "nack <type> <message>" for every NACK it receives.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	router "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

var out sync.Mutex

func say(format string, args ...any) {
	out.Lock()
	defer out.Unlock()
	fmt.Printf(format+"\n", args...)
}

func ads() *core.ConfigSource {
	return &core.ConfigSource{ResourceApiVersion: core.ApiVersion_V3, ConfigSourceSpecifier: &core.ConfigSource_Ads{Ads: &core.AggregatedConfigSource{}}}
}

func edsCluster(name string) *cluster.Cluster {
	return &cluster.Cluster{
		Name:                 name,
		ConnectTimeout:       durationpb.New(time.Second),
		ClusterDiscoveryType: &cluster.Cluster_Type{Type: cluster.Cluster_EDS},
		EdsClusterConfig:     &cluster.Cluster_EdsClusterConfig{EdsConfig: ads()},
	}
}

func assignment(name string, port uint32) *endpoint.ClusterLoadAssignment {
	return &endpoint.ClusterLoadAssignment{
		ClusterName: name,
		Endpoints: []*endpoint.LocalityLbEndpoints{{
			LbEndpoints: []*endpoint.LbEndpoint{{
				HostIdentifier: &endpoint.LbEndpoint_Endpoint{Endpoint: &endpoint.Endpoint{
					Address: &core.Address{Address: &core.Address_SocketAddress{SocketAddress: &core.SocketAddress{
						Address: "127.0.0.1", PortSpecifier: &core.SocketAddress_PortValue{PortValue: port},
					}}},
				}},
			}},
		}},
	}
}

func httpListener(port uint32) *listener.Listener {
	routerAny, _ := anypb.New(&router.Router{})
	manager := &hcm.HttpConnectionManager{
		StatPrefix:     "ingress",
		RouteSpecifier: &hcm.HttpConnectionManager_Rds{Rds: &hcm.Rds{ConfigSource: ads(), RouteConfigName: "local_route"}},
		HttpFilters:    []*hcm.HttpFilter{{Name: "envoy.filters.http.router", ConfigType: &hcm.HttpFilter_TypedConfig{TypedConfig: routerAny}}},
	}
	managerAny, _ := anypb.New(manager)
	return &listener.Listener{
		Name: "listener_0",
		Address: &core.Address{Address: &core.Address_SocketAddress{SocketAddress: &core.SocketAddress{
			Address: "127.0.0.1", PortSpecifier: &core.SocketAddress_PortValue{PortValue: port},
		}}},
		FilterChains: []*listener.FilterChain{{Filters: []*listener.Filter{{
			Name: "envoy.filters.network.http_connection_manager", ConfigType: &listener.Filter_TypedConfig{TypedConfig: managerAny},
		}}}},
	}
}

func routeTo(clusterName string) *route.RouteConfiguration {
	return &route.RouteConfiguration{
		Name: "local_route",
		VirtualHosts: []*route.VirtualHost{{
			Name: "all", Domains: []string{"*"},
			Routes: []*route.Route{{
				Match:  &route.RouteMatch{PathSpecifier: &route.RouteMatch_Prefix{Prefix: "/"}},
				Action: &route.Route_Route{Route: &route.RouteAction{ClusterSpecifier: &route.RouteAction_Cluster{Cluster: clusterName}}},
			}},
		}},
	}
}

type callbacks struct{}

func (callbacks) OnStreamOpen(context.Context, int64, string) error { return nil }
func (callbacks) OnStreamClosed(int64, *core.Node)                  {}
func (callbacks) OnStreamRequest(_ int64, r *discovery.DiscoveryRequest) error {
	if r.ErrorDetail != nil {
		say("nack %s %s", r.TypeUrl, strings.ReplaceAll(r.ErrorDetail.Message, "\n", " "))
	} else if r.ResponseNonce != "" {
		say("ack %s %s", r.TypeUrl, r.VersionInfo)
	}
	return nil
}
func (callbacks) OnStreamResponse(context.Context, int64, *discovery.DiscoveryRequest, *discovery.DiscoveryResponse) {
}
func (callbacks) OnFetchRequest(context.Context, *discovery.DiscoveryRequest) error { return nil }
func (callbacks) OnFetchResponse(*discovery.DiscoveryRequest, *discovery.DiscoveryResponse) {}
func (callbacks) OnDeltaStreamOpen(context.Context, int64, string) error { return nil }
func (callbacks) OnDeltaStreamClosed(int64, *core.Node)                  {}
func (callbacks) OnStreamDeltaRequest(_ int64, r *discovery.DeltaDiscoveryRequest) error {
	if r.ErrorDetail != nil {
		say("nack %s %s", r.TypeUrl, strings.ReplaceAll(r.ErrorDetail.Message, "\n", " "))
	} else if r.ResponseNonce != "" {
		say("ack %s", r.TypeUrl)
	}
	return nil
}
func (callbacks) OnStreamDeltaResponse(int64, *discovery.DeltaDiscoveryRequest, *discovery.DeltaDiscoveryResponse) {
}

func main() {
	nodeID := flag.String("node", "test-node", "node id to serve")
	listenPort := flag.Uint("listener-port", 0, "port of the served listener")
	upstreamA := flag.Uint("upstream-a", 0, "port of cluster a's endpoint")
	upstreamB := flag.Uint("upstream-b", 0, "port of cluster b's endpoint")
	flag.Parse()

	snapshots := cache.NewSnapshotCache(true, cache.IDHash{}, nil)
	version := 0
	set := func(target string) {
		version++
		snap, err := cache.NewSnapshot(strconv.Itoa(version), map[resource.Type][]types.Resource{
			resource.ClusterType:  {edsCluster("a"), edsCluster("b")},
			resource.EndpointType: {assignment("a", uint32(*upstreamA)), assignment("b", uint32(*upstreamB))},
			resource.ListenerType: {httpListener(uint32(*listenPort))},
			resource.RouteType:    {routeTo(target)},
		})
		if err == nil {
			err = snap.Consistent()
		}
		if err == nil {
			err = snapshots.SetSnapshot(context.Background(), *nodeID, snap)
		}
		if err != nil {
			say("error %v", err)
			os.Exit(1)
		}
		say("snapshot %d route %s", version, target)
	}
	set("a")

	grpcServer := grpc.NewServer()
	discoverygrpc.RegisterAggregatedDiscoveryServiceServer(grpcServer, server.NewServer(context.Background(), snapshots, callbacks{}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		say("error %v", err)
		os.Exit(1)
	}
	go func() { _ = grpcServer.Serve(lis) }()
	say("ready %d", lis.Addr().(*net.TCPAddr).Port)

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		fields := strings.Fields(in.Text())
		if len(fields) == 2 && fields[0] == "route" {
			set(fields[1])
		}
	}
	grpcServer.Stop()
}
