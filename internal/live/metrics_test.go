package live

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestCollectors(t *testing.T) {
	e := newEnv(t, openBus(t), Options{})
	reg := prometheus.NewRegistry()
	reg.MustRegister(e.hub.Collectors()...)
	c := e.dial(t, "", e.filter("o", ">"))
	e.publish(t, "o", "alarm", "received", "1")
	c.next(t)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		m := f.GetMetric()[0]
		if g := m.GetGauge(); g != nil {
			got[f.GetName()] = g.GetValue()
		} else {
			got[f.GetName()] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"vigil_live_clients": 1, "vigil_live_events_total": 1, "vigil_live_dropped_clients_total": 0, "vigil_live_replays_total": 0}
	for name, v := range want {
		if g, ok := got[name]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", name, g, ok, v)
		}
	}
}
