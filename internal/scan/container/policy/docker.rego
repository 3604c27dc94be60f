# Built-in Dockerfile rules. Input: one Dockerfile as described in
# dockerfile.go (stages, instructions with lines, flags, arguments, RUN
# commands). Each rule adds {id, message, line} objects to deny.
package palisade.docker

final := input.stages[input.final]

# METADATA
# title: runs-as-root
# description: The final stage sets no USER, or sets root, so the container's processes run as root unless the runtime overrides it.
# custom:
#   id: DKR001
#   severity: high
#   remediation: Create an unprivileged user in the image and switch to it with USER (a name or a non-zero UID) in the final stage, after the steps that need root.
deny contains f if {
	not final.user
	not nonroot_base(final.image)
	f := {
		"id": "DKR001",
		"message": sprintf("the final stage (FROM %s) sets no USER, so it runs as root", [final.image.ref]),
		"line": final.line,
	}
}

deny contains f if {
	is_root(final.user.value)
	f := {
		"id": "DKR001",
		"message": sprintf("the final stage runs as %s (USER %s)", [final.user.value, final.user.value]),
		"line": final.user.line,
	}
}

is_root(u) if {
	name := split(u, ":")[0]
	name in {"root", "0"}
}

# Distroless and Chainguard images tagged nonroot default to an
# unprivileged user.
nonroot_base(img) if contains(img.tag, "nonroot")

# pinnable is a base image that names a registry image (not scratch, not
# an earlier stage, not an unresolved build argument).
pinnable(img) if {
	not img.scratch
	not img.stage
	not img.unresolved
}

# METADATA
# title: base-image-not-pinned-by-digest
# description: A base image is referenced by a tag without a digest, so a rebuild may pull different content if the tag is moved or the registry is compromised.
# custom:
#   id: DKR002
#   severity: medium
#   remediation: Pin the image by digest (FROM name:tag@sha256:...) and update the digest deliberately, for example with a dependency bot.
deny contains f if {
	some st in input.stages
	pinnable(st.image)
	st.image.digest == ""
	st.image.tag != ""
	st.image.tag != "latest"
	f := {
		"id": "DKR002",
		"message": sprintf("base image %s is pinned by tag only, not by digest", [st.image.ref]),
		"line": st.line,
	}
}

# METADATA
# title: base-image-latest
# description: A base image is referenced with the latest tag or no tag at all, so every build may use a different, unreviewed image.
# custom:
#   id: DKR003
#   severity: medium
#   remediation: Name an explicit version tag and pin it by digest (FROM name:1.2.3@sha256:...).
deny contains f if {
	some st in input.stages
	pinnable(st.image)
	st.image.digest == ""
	st.image.tag in {"", "latest"}
	f := {
		"id": "DKR003",
		"message": sprintf("base image %s uses the latest tag (explicitly or by omission)", [st.image.ref]),
		"line": st.line,
	}
}

# METADATA
# title: add-from-url
# description: ADD downloads a remote URL at build time without a checksum, so the image content depends on whatever the server returns.
# custom:
#   id: DKR004
#   severity: medium
#   remediation: Download with a pinned checksum (ADD --checksum=sha256:... URL, or RUN curl followed by sha256sum -c), or vendor the file into the build context and COPY it.
deny contains f if {
	some st in input.stages
	some ins in st.instructions
	ins.cmd == "add"
	not ins.flags.checksum
	some src in array.slice(ins.args, 0, count(ins.args) - 1)
	regex.match(`^(?i)(https?|ftp)://`, src)
	f := {
		"id": "DKR004",
		"message": sprintf("ADD fetches %s without a checksum", [src]),
		"line": ins.line,
	}
}

fetchers := {"curl", "wget", "fetch", "aria2c"}

shells := {"sh", "bash", "dash", "ash", "zsh", "ksh", "python", "python3", "perl", "ruby", "node"}

# METADATA
# title: pipe-to-shell
# description: A RUN step pipes a download straight into a shell or interpreter (curl ... | sh), running unreviewed remote code during the build.
# custom:
#   id: DKR005
#   severity: high
#   remediation: Download the script to a file, verify its checksum or signature, then run it; better, install the software from a signed package.
deny contains f if {
	some st in input.stages
	some ins in st.instructions
	ins.cmd == "run"
	some a in ins.commands
	some b in ins.commands
	a.pipeline == b.pipeline
	a.pos < b.pos
	a.argv[0] in fetchers
	b.argv[0] in shells
	f := {
		"id": "DKR005",
		"message": sprintf("RUN pipes %s output into %s", [a.argv[0], b.argv[0]]),
		"line": ins.line,
	}
}

# sh -c "$(curl ...)" and bash <(curl ...): the download runs without a pipe.
deny contains f if {
	some st in input.stages
	some ins in st.instructions
	ins.cmd == "run"
	regex.match(`(^|[\s;&|(])(ba|da|z|k)?sh\s+(-c\s+)?["']?(\$\(|<\()\s*(curl|wget)\b`, ins.script)
	f := {
		"id": "DKR005",
		"message": "RUN executes the output of a download in a shell",
		"line": ins.line,
	}
}

# A name that usually holds a credential: *_TOKEN, *_KEY, *PASSWORD*,
# *SECRET*, AWS_ACCESS_KEY_ID, and their lower-case spellings.
secret_name(k) if regex.match(`(?i)(^|_)(TOKEN|API_?KEY|ACCESS_?KEY(_ID)?|SECRET_?KEY|PRIVATE_?KEY|AUTH_?KEY|KEY)$|PASSW(OR)?D|PASSWD|SECRET|CREDENTIAL`, k)

# Names that match the pattern but hold no secret.
not_secret(k) if regex.match(`(?i)(PUBLIC_?KEY|_KEY_(NAME|PATH|FILE)$|_(FILE|PATH|DIR|URL)$|^GPG_KEY$|KEYRING|KEY_?SERVER|PRIMARY_KEY|SORT_KEY)`, k)

# METADATA
# title: secret-in-env-or-arg
# description: An ENV or ARG with a credential-like name (*_TOKEN, *_KEY, *PASSWORD*, *SECRET*, AWS_ACCESS_KEY_ID) is given a value, which is stored in the image configuration or build history for anyone who pulls the image.
# custom:
#   id: DKR006
#   severity: high
#   remediation: Remove the value and rotate the credential; pass build-time secrets with RUN --mount=type=secret and runtime secrets through the orchestrator's secret store.
deny contains f if {
	some st in input.stages
	some ins in st.instructions
	ins.cmd == "env"
	some p in ins.pairs
	secret_name(p.key)
	not not_secret(p.key)
	p.value != ""
	f := {
		"id": "DKR006",
		"message": sprintf("ENV sets %s, a credential-like variable, in the image", [p.key]),
		"line": ins.line,
	}
}

deny contains f if {
	some p in all_args
	p.has_value
	secret_name(p.key)
	not not_secret(p.key)
	p.value != ""
	not startswith(p.value, "$")
	f := {
		"id": "DKR006",
		"message": sprintf("ARG %s has a credential-like name and a default value, kept in the build history", [p.key]),
		"line": p.line,
	}
}

all_args contains object.union(p, {"line": input.args[i].line}) if {
	some i
	p := input.args[i]
}

all_args contains object.union(p, {"line": ins.line}) if {
	some st in input.stages
	some ins in st.instructions
	ins.cmd == "arg"
	some p in ins.pairs
}

# packages returns the package arguments of an install command: words
# after the subcommand that are not options or option values.
packages(args, valued) := [a |
	some i, a in args
	i > 0
	not startswith(a, "-")
	not args[i - 1] in valued
]

apt_valued := {"-o", "-t", "-c", "--target-release", "--option", "--config-file"}

apt_install_args(argv) := array.slice(argv, i, count(argv)) if {
	argv[0] in {"apt-get", "apt", "aptitude"}
	i := first_index(argv, "install")
}

apk_valued := {"-X", "--repository", "-t", "--virtual", "-p", "--root", "--arch", "--repositories-file", "--cache-dir", "--keys-dir"}

apk_add_args(argv) := array.slice(argv, i, count(argv)) if {
	argv[0] == "apk"
	i := first_index(argv, "add")
}

# first_index is the index of the first occurrence of word in argv.
first_index(argv, word) := min([i | some i, w in argv; w == word])

pip_valued := {
	"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
	"--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root", "--src",
	"--upgrade-strategy", "--platform", "--python-version", "--implementation", "--abi",
	"--progress-bar", "--trusted-host", "--cache-dir", "--log", "--proxy", "--retries",
	"--timeout", "--exists-action", "--global-option", "--config-settings", "-C", "--report",
	"--only-binary", "--no-binary", "--python", "--root-user-action",
}

pip_install_args(argv) := array.slice(argv, 1, count(argv)) if {
	regex.match(`^pip[0-9.]*$`, argv[0])
	argv[1] == "install"
}

pip_install_args(argv) := array.slice(argv, 3, count(argv)) if {
	regex.match(`^python[0-9.]*$`, argv[0])
	argv[1] == "-m"
	argv[2] == "pip"
	argv[3] == "install"
}

pip_install_args(argv) := array.slice(argv, 2, count(argv)) if {
	argv[0] in {"uv", "poetry"}
	argv[1] == "pip"
	argv[2] == "install"
}

# Arguments that are not package names from an index: variables, local
# paths, archives, URLs and VCS references.
not_a_name(p) if contains(p, "$")

not_a_name(p) if regex.match(`^[./~]|://|\.(whl|deb|apk|tar\.gz|zip|tgz)$|^(git|hg|svn|bzr)\+`, p)

apt_unpinned(args) := [p |
	some p in packages(args, apt_valued)
	not contains(p, "=")
	not not_a_name(p)
]

apk_unpinned(args) := [p |
	some p in packages(args, apk_valued)
	not contains(p, "=")
	not contains(p, "~")
	not not_a_name(p)
]

# A pip requirement is pinned by == or ===, or is a direct reference
# (name @ url).
pip_unpinned(args) := [p |
	some p in packages(args, pip_valued)
	not contains(p, "==")
	not contains(p, "@")
	not not_a_name(p)
]

# METADATA
# title: os-package-not-pinned
# description: An apt-get, apt or apk install names packages without a version, so rebuilds pick up whatever the mirror serves that day.
# custom:
#   id: DKR007
#   severity: low
#   remediation: Pin each package to a version (apt-get install curl=7.88.1-10+deb12u5, apk add curl=8.5.0-r0), or build from a base image pinned by digest that already contains it.
deny contains f if {
	some st in input.stages
	some ins in st.instructions
	ins.cmd == "run"
	some c in ins.commands
	pkgs := array.concat(
		[p | some p in apt_unpinned(apt_install_args(c.argv))],
		[p | some p in apk_unpinned(apk_add_args(c.argv))],
	)
	count(pkgs) > 0
	f := {
		"id": "DKR007",
		"message": sprintf("%s installs %s without a pinned version", [c.argv[0], concat(", ", pkgs)]),
		"line": ins.line,
	}
}

# METADATA
# title: pip-package-not-pinned
# description: A pip install names Python packages without an exact version (==), so rebuilds may install a different or malicious release.
# custom:
#   id: DKR008
#   severity: low
#   remediation: Pin exact versions (pip install torch==2.3.1), preferably from a requirements file with hashes (pip install --require-hashes -r requirements.txt).
deny contains f if {
	some st in input.stages
	some ins in st.instructions
	ins.cmd == "run"
	some c in ins.commands
	pkgs := pip_unpinned(pip_install_args(c.argv))
	count(pkgs) > 0
	f := {
		"id": "DKR008",
		"message": sprintf("pip installs %s without an exact version", [concat(", ", pkgs)]),
		"line": ins.line,
	}
}
