package deps

import (
	"regexp"
	"strings"
)

// defaultPopular are widely installed ML and Python packages whose names
// typosquatters imitate. Names are PEP 503-normalised.
var defaultPopular = []string{
	// Deep learning and model tooling.
	"torch", "torchvision", "torchaudio", "tensorflow", "tensorflow-gpu", "keras", "jax", "jaxlib", "flax",
	"transformers", "tokenizers", "datasets", "accelerate", "diffusers", "safetensors", "huggingface-hub",
	"sentence-transformers", "peft", "trl", "bitsandbytes", "onnx", "onnxruntime", "timm", "lightning",
	"pytorch-lightning", "deepspeed", "vllm", "xformers", "einops", "optimum", "evaluate", "gradio",
	"streamlit", "spacy", "nltk", "gensim", "sentencepiece", "tiktoken",
	// LLM clients and frameworks.
	"openai", "anthropic", "langchain", "langchain-core", "langchain-community", "llama-index", "cohere",
	"mistralai", "google-generativeai", "litellm", "chromadb", "faiss-cpu", "pinecone-client",
	// Classical ML and data.
	"numpy", "pandas", "scipy", "scikit-learn", "xgboost", "lightgbm", "catboost", "statsmodels",
	"matplotlib", "seaborn", "plotly", "polars", "pyarrow", "numba", "sympy", "networkx",
	"opencv-python", "opencv-python-headless", "opencv-contrib-python", "pillow", "scikit-image", "imageio",
	// MLOps and serving.
	"mlflow", "wandb", "ray", "dask", "optuna", "tensorboard", "fastapi", "uvicorn", "flask", "django",
	"celery", "kubernetes", "docker", "joblib", "tqdm", "jupyter", "notebook", "jupyterlab", "ipython",
	"ipykernel", "nbconvert",
	// General infrastructure.
	"requests", "urllib3", "httpx", "aiohttp", "boto3", "botocore", "s3fs", "fsspec", "google-cloud-storage",
	"azure-storage-blob", "pydantic", "pyyaml", "jinja2", "cryptography", "protobuf", "grpcio", "setuptools",
	"wheel", "pip", "certifi", "six", "click", "rich", "typer", "python-dotenv", "sqlalchemy", "psycopg2",
	"redis", "pytest", "beautifulsoup4", "lxml", "packaging", "attrs", "colorama",
}

// legitNeighbours are real, established packages that sit within the edit
// distance of a popular name; they are not reported.
var legitNeighbours = map[string]bool{
	"pytorch": true, "numba": true, "scapy": true, "boto": true, "dataset": true, "wand": true,
	"jinja": true, "pyaml": true, "panda": true, "torchx": true, "openapi": true, "rq": true,
	"pandas-gbq": true, "tensorflow-cpu": true, "keras-nlp": true, "keras-cv": true, "onnxruntime-gpu": true,
	"lightning-utilities": true, "optimum-intel": true, "faiss-gpu": true, "psycopg": true, "psycopg2-binary": true,
	"opencv-contrib-python-headless": true, "google-cloud-core": true, "celery-types": true, "flask-cors": true,
	"httpcore": true, "pydantic-core": true, "tokenize-rt": true, "jupyter-core": true,
	"jupyter-client": true, "nbformat": true, "ipywidgets": true, "attr": true, "docker-py": true, "seaborn-image": true,
	"nbclient": true, "plotnine": true, "sklearn": true, "dask-ml": true, "typing": true, "simpy": true,
	"tensorboardx": true, "torchdata": true, "torchtext": true, "pyarrow-stubs": true, "scikit-build": true,
}

var reSeparators = regexp.MustCompile(`[-_.]+`)

// normalize returns the PEP 503 normalised form of a Python package name.
func normalize(name string) string {
	return reSeparators.ReplaceAllString(strings.ToLower(strings.TrimSpace(name)), "-")
}

// typosquatIndex finds names close to a list of popular ones.
type typosquatIndex struct {
	popular map[string]bool
	names   []string
}

func newTyposquatIndex(names []string) *typosquatIndex {
	ix := &typosquatIndex{popular: map[string]bool{}}
	for _, n := range names {
		n = normalize(n)
		if n == "" || ix.popular[n] {
			continue
		}
		ix.popular[n] = true
		ix.names = append(ix.names, n)
	}
	return ix
}

// maxDistance is how many edits from a popular name still count as a
// likely typosquat: none for names of four characters or fewer (too many
// legitimate neighbours: "ray", "jax", "rich"), one up to seven, two from
// eight on.
func maxDistance(n int) int {
	switch {
	case n <= 4:
		return 0
	case n <= 7:
		return 1
	default:
		return 2
	}
}

// check returns the popular name that name imitates, or "".
func (ix *typosquatIndex) check(name string) string {
	n := normalize(name)
	if n == "" || ix.popular[n] || legitNeighbours[n] {
		return ""
	}
	flat := strings.ReplaceAll(n, "-", "")
	best, bestD := "", 3
	for _, p := range ix.names {
		limit := maxDistance(len(p))
		// The same letters with other separators ("scikitlearn") imitate
		// the name as well as any typo.
		if flat == strings.ReplaceAll(p, "-", "") {
			return p
		}
		if limit == 0 {
			continue
		}
		if d := osaDistance(n, p, limit); d <= limit && d < bestD {
			best, bestD = p, d
		}
	}
	return best
}

// osaDistance is the optimal-string-alignment (restricted
// Damerau-Levenshtein) distance of a and b: insertions, deletions,
// substitutions and transpositions of adjacent characters. It returns
// limit+1 as soon as the distance is known to exceed limit.
func osaDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	if len(a) > 64 || len(b) > 64 {
		return limit + 1
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
