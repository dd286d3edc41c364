// Command gen derives internal/geo/communes.tsv.gz from the data folder of the
// @etalab/decoupage-administratif npm package: current communes and the
// municipal arrondissements of Paris, Lyon and Marseille, with the levels
// proximity needs (département, arrondissement, intercommunality).
// deploy/communes/regenerate.sh fetches the package and runs it.
package main

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type commune struct {
	Code           string `json:"code"`
	Name           string `json:"nom"`
	Type           string `json:"type"`
	Parent         string `json:"commune"`
	Departement    string `json:"departement"`
	Region         string `json:"region"`
	Arrondissement string `json:"arrondissement"`
	Population     int    `json:"population"`
}

type epci struct {
	Code    string `json:"code"`
	Members []struct {
		Code string `json:"code"`
	} `json:"membres"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gen PACKAGE_DATA_DIR OUTPUT.tsv.gz")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(dir, out string) error {
	var communes []commune
	var epcis []epci
	if err := readJSON(filepath.Join(dir, "communes.json"), &communes); err != nil {
		return err
	}
	if err := readJSON(filepath.Join(dir, "epci.json"), &epcis); err != nil {
		return err
	}
	epciOf := map[string]string{}
	for _, e := range epcis {
		for _, m := range e.Members {
			epciOf[m.Code] = e.Code
		}
	}
	var rows []string
	for _, c := range communes {
		if c.Type != "commune-actuelle" && c.Type != "arrondissement-municipal" {
			continue
		}
		group := epciOf[c.Code]
		if c.Type == "arrondissement-municipal" {
			group = epciOf[c.Parent]
		}
		name := strings.ReplaceAll(c.Name, "\t", " ")
		rows = append(rows, strings.Join([]string{c.Code, name, c.Departement, c.Region, c.Arrondissement, group, fmt.Sprint(c.Population)}, "\t"))
	}
	sort.Strings(rows)
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		return err
	}
	fmt.Fprintln(zw, "code\tname\tdepartement\tregion\tarrondissement\tepci\tpopulation")
	for _, r := range rows {
		fmt.Fprintln(zw, r)
	}
	if err := zw.Close(); err != nil {
		return err
	}
	fmt.Printf("%d communes written to %s\n", len(rows), out)
	return nil
}

func readJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}
