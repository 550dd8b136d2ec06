package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/honeyapi/honeyapi/templates"
)

func newTemplatesCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "templates",
		Short: "List the built-in decoy templates",
		Long: `List the built-in decoy templates, one name per line. Any of them can be
served with "honeyapi serve --spec NAME".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list := templates.List()
			if asJSON {
				type entry struct {
					Name        string `json:"name"`
					Title       string `json:"title"`
					Description string `json:"description"`
				}
				out := make([]entry, 0, len(list))
				for _, t := range list {
					out = append(out, entry{Name: t.Name, Title: t.Title, Description: t.Description})
				}
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			for _, t := range list {
				fmt.Fprintln(a.stdout, t.Name)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print name, title and description as JSON")
	return cmd
}
