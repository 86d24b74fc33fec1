package bus

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestCollectors(t *testing.T) {
	b := openTest(t, Config{DataDir: t.TempDir()})
	reg := prometheus.NewRegistry()
	reg.MustRegister(b.Collectors()...)
	publish(t, b, "o", "m", "e", "x")
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
	if got["vigil_bus_connected"] != 1 || got["vigil_bus_messages_out_total"] < 1 || got["vigil_bus_messages_in_total"] < 1 {
		t.Fatalf("metrics %v", got)
	}
	if _, ok := got["vigil_bus_reconnects_total"]; !ok {
		t.Fatalf("reconnect counter missing: %v", got)
	}
	b.Close()
	families, _ = reg.Gather()
	for _, f := range families {
		if f.GetName() == "vigil_bus_connected" && f.GetMetric()[0].GetGauge().GetValue() != 0 {
			t.Fatal("closed bus reported as connected")
		}
	}
}
