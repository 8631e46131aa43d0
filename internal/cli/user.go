package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/polder-nsm/polder/web/auth"
)

var stdin io.Reader = os.Stdin

func userCommand() *ucli.Command {
	pwFlag := &ucli.BoolFlag{Name: "password-stdin", Usage: "read the password from the first line of standard input instead of generating one"}
	return &ucli.Command{
		Name:  "user",
		Usage: "manage the web UI's users of the instance given with -d",
		Description: `Users live in DIR/` + auth.UsersFile + ` (mode 0600), with argon2id password hashes only.
Without --password-stdin, a random password is generated and printed once.`,
		Subcommands: []*ucli.Command{
			{
				Name: "add", Usage: "add a user", ArgsUsage: "NAME",
				Flags: []ucli.Flag{pwFlag},
				Action: func(c *ucli.Context) error {
					return userSet(c, "add", (*auth.Users).Add)
				},
			},
			{
				Name: "passwd", Usage: "set a user's password", ArgsUsage: "NAME",
				Flags: []ucli.Flag{pwFlag},
				Action: func(c *ucli.Context) error {
					return userSet(c, "passwd", (*auth.Users).SetPassword)
				},
			},
			{
				Name: "del", Aliases: []string{"rm"}, Usage: "remove a user", ArgsUsage: "NAME",
				Action: func(c *ucli.Context) error {
					u, name, err := userArgs(c, "del")
					if err != nil {
						return err
					}
					if err := u.Remove(name); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "removed user %s (their open web UI sessions end at their next request)\n", name)
					return nil
				},
			},
			{
				Name: "list", Usage: "list users",
				Flags: []ucli.Flag{&ucli.BoolFlag{Name: "json", Usage: "one JSON array of {name, created, password_changed}"}},
				Action: func(c *ucli.Context) error {
					u, err := usersOf(c, "list")
					if err != nil {
						return err
					}
					list, err := u.List()
					if err != nil {
						return err
					}
					if c.Bool("json") {
						type row struct {
							Name            string `json:"name"`
							Created         string `json:"created"`
							PasswordChanged string `json:"password_changed"`
						}
						rows := []row{}
						for _, x := range list {
							rows = append(rows, row{x.Name, x.Created.Format("2006-01-02T15:04:05Z07:00"), x.PasswordChanged.Format("2006-01-02T15:04:05Z07:00")})
						}
						return json.NewEncoder(c.App.Writer).Encode(rows)
					}
					for _, x := range list {
						fmt.Fprintf(c.App.Writer, "%s\tcreated %s\tpassword changed %s\n", x.Name,
							x.Created.Format("2006-01-02 15:04"), x.PasswordChanged.Format("2006-01-02 15:04"))
					}
					return nil
				},
			},
		},
	}
}

func usersOf(c *ucli.Context, cmd string) (*auth.Users, error) {
	dir := c.String("dir")
	if dir == "" {
		return nil, usagef("user %s: want the instance directory (-d DIR)", cmd)
	}
	return auth.OpenUsers(filepath.Join(dir, auth.UsersFile), auth.UsersOptions{}), nil
}

func userArgs(c *ucli.Context, cmd string) (*auth.Users, string, error) {
	if c.NArg() != 1 {
		return nil, "", usagef("user %s: want exactly one user NAME", cmd)
	}
	u, err := usersOf(c, cmd)
	return u, c.Args().First(), err
}

// userSet runs add or passwd with a password from stdin or generated.
func userSet(c *ucli.Context, cmd string, set func(*auth.Users, string, string) error) error {
	u, name, err := userArgs(c, cmd)
	if err != nil {
		return err
	}
	if err := auth.ValidateName(name); err != nil {
		return &UsageError{err}
	}
	pw, generated := auth.GeneratePassword(), true
	if c.Bool("password-stdin") {
		line, err := bufio.NewReader(io.LimitReader(stdin, auth.MaxPasswordLen+2)).ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("user %s: read password from stdin: %w", cmd, err)
		}
		pw, generated = strings.TrimRight(line, "\r\n"), false
		if err := auth.ValidatePassword(pw); err != nil {
			return &UsageError{err}
		}
	}
	if err := set(u, name, pw); err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(c.App.Writer, "user %s password (shown once, store it now): %s\n", name, pw)
	} else {
		fmt.Fprintf(c.App.Writer, "user %s: password set\n", name)
	}
	return nil
}
