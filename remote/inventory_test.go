package remote

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func hostsOf(inv *Inventory) map[string]*InventoryHost {
	m := map[string]*InventoryHost{}
	for _, h := range inv.Hosts {
		m[h.Name] = h
	}
	return m
}

func TestTriageInventory(t *testing.T) {
	src := `
vars: {dns_server: 10.0.0.53, tier: base}
playbooks: [standard]
hosts:
  web1: {address: 10.0.1.1, user: deploy, vars: {tier: front}}
  alice@10.2.3.4:2222:
  db1:
    port: 2200
    playbooks: [disk]
groups:
  web:
    hosts: [web1, "web[2:3]"]
    vars: {tier: web, http: "8080"}
    playbooks: [connectivity]
  prod:
    children: [web]
    vars: {env: prod, tier: prod}
`
	inv, err := ParseInventory("hosts.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, h := range inv.Hosts {
		names = append(names, h.Name)
	}
	if want := []string{"web1", "alice@10.2.3.4:2222", "db1", "web2", "web3"}; !reflect.DeepEqual(names, want) {
		t.Errorf("hosts %v, want %v", names, want)
	}
	h := hostsOf(inv)
	w1 := h["web1"]
	if w1.Spec() != "deploy@10.0.1.1" {
		t.Errorf("web1 spec %q", w1.Spec())
	}
	// all < prod < web < host
	if w1.Vars["tier"] != "front" || w1.Vars["env"] != "prod" || w1.Vars["dns_server"] != "10.0.0.53" || w1.Vars["http"] != "8080" {
		t.Errorf("web1 vars %v", w1.Vars)
	}
	if h["web2"].Vars["tier"] != "web" {
		t.Errorf("web2: the inner group's value should win: %v", h["web2"].Vars)
	}
	if !reflect.DeepEqual(w1.Groups, []string{"prod", "web"}) {
		t.Errorf("web1 groups %v", w1.Groups)
	}
	if !reflect.DeepEqual(w1.Playbooks, []string{"standard", "connectivity"}) || !reflect.DeepEqual(h["db1"].Playbooks, []string{"standard", "disk"}) {
		t.Errorf("playbooks: web1 %v db1 %v", w1.Playbooks, h["db1"].Playbooks)
	}
	a := h["alice@10.2.3.4:2222"]
	if a.User != "alice" || a.Address != "10.2.3.4" || a.Port != 2222 || a.Spec() != "alice@10.2.3.4:2222" {
		t.Errorf("alice: %+v", a)
	}
	if h["db1"].Spec() != "db1:2200" {
		t.Errorf("db1 spec %q", h["db1"].Spec())
	}
}

func TestAnsibleYAMLInventory(t *testing.T) {
	src := `
all:
  vars:
    ansible_user: admin
    ntp: pool.example
  hosts:
    bastion:
      ansible_host: 192.0.2.10
  children:
    webservers:
      hosts:
        www[01:02].example.com:
          ansible_port: 2222
      vars:
        http_port: 80
        packages: [nginx, curl]
    databases:
      hosts:
        db.example.com:
          ansible_user: postgres
      children:
        replicas:
          hosts:
            replica1.example.com:
`
	inv, err := ParseInventory("inventory.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	h := hostsOf(inv)
	if len(inv.Hosts) != 5 {
		t.Fatalf("%d hosts: %v", len(inv.Hosts), h)
	}
	if h["bastion"].Spec() != "admin@192.0.2.10" {
		t.Errorf("bastion %q", h["bastion"].Spec())
	}
	if h["www01.example.com"].Spec() != "admin@www01.example.com:2222" || h["www02.example.com"].Vars["http_port"] != "80" {
		t.Errorf("www01 %q vars %v", h["www01.example.com"].Spec(), h["www02.example.com"].Vars)
	}
	if _, ok := h["www01.example.com"].Vars["packages"]; ok {
		t.Error("a list variable was kept as a string")
	}
	if h["db.example.com"].User != "postgres" {
		t.Errorf("host user should beat the group's: %+v", h["db.example.com"])
	}
	if g := h["replica1.example.com"].Groups; !reflect.DeepEqual(g, []string{"databases", "replicas"}) {
		t.Errorf("replica groups %v", g)
	}
	if h["replica1.example.com"].Vars["ntp"] != "pool.example" {
		t.Errorf("all's vars not inherited: %v", h["replica1.example.com"].Vars)
	}
}

func TestAnsibleINIInventory(t *testing.T) {
	src := `# production
mail.example.com

[webservers]
foo.example.com ansible_port=2222 http_port=80
bar.example.com ansible_host=192.0.2.20 ansible_user="deploy" note='two words'

[dbservers]
db-[a:c].example.com

[webservers:vars]
ntp_server=ntp.atlanta.example.com
proxy = proxy.atlanta.example.com

[prod:children]
webservers
dbservers

[prod:vars]
env=prod
`
	inv, err := ParseInventory("hosts", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	h := hostsOf(inv)
	if len(inv.Hosts) != 6 {
		t.Fatalf("%d hosts", len(inv.Hosts))
	}
	if h["foo.example.com"].Spec() != "foo.example.com:2222" || h["foo.example.com"].Vars["http_port"] != "80" {
		t.Errorf("foo %q %v", h["foo.example.com"].Spec(), h["foo.example.com"].Vars)
	}
	bar := h["bar.example.com"]
	if bar.Spec() != "deploy@192.0.2.20" || bar.Vars["note"] != "two words" || bar.Vars["proxy"] != "proxy.atlanta.example.com" || bar.Vars["env"] != "prod" {
		t.Errorf("bar %q %v", bar.Spec(), bar.Vars)
	}
	if h["db-b.example.com"] == nil || !reflect.DeepEqual(h["db-b.example.com"].Groups, []string{"prod", "dbservers"}) {
		t.Errorf("db-b: %+v", h["db-b.example.com"])
	}
	if g := h["mail.example.com"].Groups; !reflect.DeepEqual(g, []string{"ungrouped"}) {
		t.Errorf("mail groups %v", g)
	}
}

func TestInventoryErrors(t *testing.T) {
	cases := []struct {
		name, file, src string
		want            []string
	}{
		{"empty", "h.yaml", "  \n", []string{"h.yaml: inventory is empty"}},
		{"unknown key", "h.yaml", "hosts: [a]\ngroupz: {}\n", []string{`h.yaml:2:1: unknown key "groupz"`}},
		{"bad port", "h.yaml", "hosts:\n  a: {port: 99999}\n", []string{`h.yaml:2:13: host a: port "99999"`}},
		{"host key typo", "h.yaml", "hosts:\n  a: {adress: x}\n", []string{`h.yaml:2:7: host a: unknown key "adress"`}},
		{"missing child", "h.yaml", "hosts: [a]\ngroups:\n  g: {children: [nope]}\n", []string{"group g names child group nope, which is not defined"}},
		{"cycle", "h.yaml", "hosts: [a]\ngroups:\n  g: {children: [h]}\n  h: {children: [g]}\n", []string{"groups contain each other"}},
		{"bad range", "h.yaml", "hosts: [\"web[9:1]\"]\n", []string{"h.yaml:1:9: host range"}},
		{"huge range", "h.yaml", "hosts: [\"web[1:999999999]\"]\n", []string{"more than 100000 hosts"}},
		{"ini bad section", "h.ini", "[web:varz]\na\n", []string{`h.ini:1:6: unknown section kind "varz"`}},
		{"ini bad var", "h.ini", "[web]\nhost1 port\n", []string{`h.ini:2:7: host host1: want name=value, got "port"`}},
		{"ini unclosed quote", "h.ini", "[web]\nh x='a\n", []string{"h.ini:2:1: unclosed ' quote"}},
		{"hostile name", "h.yaml", "hosts: [\"a;rm -rf /\"]\n", []string{"is not a host name or address"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseInventory(c.file, []byte(c.src))
			var list InventoryErrors
			if !errors.As(err, &list) {
				t.Fatalf("got %v, want InventoryErrors", err)
			}
			if len(list) != len(c.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(list), len(c.want), err)
			}
			for i, w := range c.want {
				if !strings.Contains(list[i].Error(), w) {
					t.Errorf("error %d: %q does not contain %q", i, list[i].Error(), w)
				}
			}
		})
	}
}

func TestSelect(t *testing.T) {
	inv, err := ParseInventory("h.yaml", []byte("hosts: [web1, web2, db1, db2]\ngroups:\n  web: {hosts: [web1, web2]}\n  db: {hosts: [db1, db2]}\n  primary: {hosts: [web1, db1]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for limit, want := range map[string]string{
		"":                "web1 web2 db1 db2",
		"web":             "web1 web2",
		"db*":             "db1 db2",
		"web,db1":         "web1 web2 db1",
		"all:!web":        "db1 db2",
		"web:&primary":    "web1",
		"*2":              "web2 db2",
		"primary,!db1":    "web1",
		"web1:web2:!web2": "web1",
	} {
		hosts, err := inv.Select(limit)
		if err != nil {
			t.Errorf("Select(%q): %v", limit, err)
			continue
		}
		var names []string
		for _, h := range hosts {
			names = append(names, h.Name)
		}
		if got := strings.Join(names, " "); got != want {
			t.Errorf("Select(%q) = %q, want %q", limit, got, want)
		}
	}
	if _, err := inv.Select("nothing*"); err == nil {
		t.Error("a limit matching nothing was accepted")
	}
}

func FuzzParseInventory(f *testing.F) {
	f.Add("h.yaml", []byte("hosts: [a, b]\ngroups:\n  g: {hosts: [a], children: [h]}\n  h: {hosts: [b]}\n"))
	f.Add("h.yml", []byte("all:\n  hosts:\n    a:\n      ansible_port: 22\n  children:\n    g:\n      hosts: {b: }\n"))
	f.Add("hosts", []byte("a\n[g]\nb[1:3] x=1\n[g:vars]\ny=2\n[p:children]\ng\n"))
	f.Add("h.ini", []byte("[g]\nh x='a b'\n"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		inv, err := ParseInventory(name, data)
		if err == nil {
			for _, h := range inv.Hosts {
				if _, err := ParseSpec(h.Spec()); err != nil {
					t.Errorf("accepted host %q whose spec %q does not parse: %v", h.Name, h.Spec(), err)
				}
			}
		}
	})
}
