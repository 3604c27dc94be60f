package gguf

import (
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// Benign templates in the shapes real models ship (written for these
// tests): loops, conditionals, namespace(), raise_exception, filters,
// string methods, tool-call JSON, macros, dict literals, full-width
// DeepSeek markers.
var benignTemplates = map[string]string{
	"chatml": chatML,

	"llama3.1-tools": `{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = strftime_now("%d %b %Y") %}
{%- endif %}
{%- set ns = namespace(system_message="", has_tools=false) %}
{%- if messages[0]['role'] == 'system' %}
    {%- set ns.system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{{- ns.system_message }}
{{- "<|eot_id|>" }}
{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}`,

	"mistral": `{%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.last and system_message is defined %}
            {{- '[INST] ' + system_message + '\n\n' + message['content'] + '[/INST]' }}
        {%- else %}
            {{- '[INST] ' + message['content'] + '[/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}`,

	"gemma": `{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}`,

	"qwen2.5-tools": `{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}`,

	"deepseek-r1": `{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='', is_first_sp=true) %}{%- for message in messages %}{%- if message['role'] == 'system' %}{%- if ns.is_first_sp %}{% set ns.system_prompt = ns.system_prompt + message['content'] %}{% set ns.is_first_sp = false %}{%- else %}{% set ns.system_prompt = ns.system_prompt + '\n\n' + message['content'] %}{%- endif %}{%- endif %}{%- endfor %}{{ bos_token }}{{ ns.system_prompt }}{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is none %}{%- set ns.is_tool = false -%}{%- for tool in message['tool_calls'] %}{%- if not ns.is_first %}{{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '` + "```json" + `' + '\n' + tool['function']['arguments'] + '\n' + '` + "```" + `' + '<｜tool▁call▁end｜>'}}{%- set ns.is_first = true -%}{%- endif %}{%- endfor %}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is not none %}{%- set content = message['content'] %}{%- if '</think>' in content %}{%- set content = content.split('</think>')[-1] %}{%- endif %}{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endfor %}{% if add_generation_prompt %}{{'<｜Assistant｜><think>\n'}}{% endif %}`,

	"qwen3-reasoning": `{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if ns.multi_step_tool and message.role == "user" and message.content is string and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}
        {%- set ns.multi_step_tool = false %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if message.content is string %}
        {%- set content = message.content %}
    {%- else %}
        {%- set content = '' %}
    {%- endif %}
    {%- if message.role == "assistant" %}
        {%- set reasoning_content = '' %}
        {%- if message.reasoning_content is string %}
            {%- set reasoning_content = message.reasoning_content %}
        {%- elif '</think>' in content %}
            {%- set reasoning_content = content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}
            {%- set content = content.split('</think>')[-1].lstrip('\n') %}
        {%- endif %}
        {{- '<|im_start|>' + message.role + '\n<think>\n' + reasoning_content.strip('\n') + '\n</think>\n\n' + content.lstrip('\n') }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\n\n</think>\n\n' }}{%- endif %}{%- endif %}`,

	"phi3": `{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}`,

	"hermes-tool-macro": `{%- macro json_to_python_type(json_spec) %}
{%- set basic_type_map = {
    "string": "str",
    "number": "float",
    "integer": "int",
    "boolean": "bool"
} %}
{%- if basic_type_map[json_spec.type] is defined %}
    {{- basic_type_map[json_spec.type] }}
{%- elif json_spec.type == "array" %}
    {{- "list[" +  json_to_python_type(json_spec|items) + "]"}}
{%- elif json_spec.type == "object" %}
    {%- if json_spec.additionalProperties is defined %}
        {{- "dict[str, " + json_to_python_type(json_spec.additionalProperties) + ']'}}
    {%- else %}
        {{- "dict" }}
    {%- endif %}
{%- else %}
    {{- "Any" }}
{%- endif %}
{%- endmacro %}
{{- bos_token }}
{{- '<|im_start|>system\nYou are a function calling AI model. You may call one or more functions. Here are the available tools: <tools> ' }}
{%- for tool in tools %}
    {%- if tool.function is defined %}
        {%- set tool = tool.function %}
    {%- endif %}
    {{- '{"type": "function", "function": ' }}
    {{- '{"name": "' + tool.name + '", ' }}
    {%- for param_name, param_fields in tool.parameters.properties|items %}
        {{- param_name + ": " + json_to_python_type(param_fields) }}
        {%- if not loop.last %}{{- ", " }}{%- endif %}
    {%- endfor %}
    {{- " - " + tool.description + "\n\n" }}
{%- endfor %}
{{- " </tools>Use the following pydantic model json schema for each tool call you will make: " }}
{{- '{"properties": {"name": {"title": "Name", "type": "string"}, "arguments": {"title": "Arguments", "type": "object"}}, "required": ["name", "arguments"], "title": "FunctionCall", "type": "object"}' }}`,

	"granite-and-misc": `{%- set sep = joiner(", ") %}{%- set row = cycler("odd", "even") %}
{%- set system_message = "Knowledge Cutoff Date: April 2024.\nToday's Date: " + strftime_now('%B %d, %Y') + ".\nYou are Granite." %}
{%- set systems = messages|selectattr('role', 'equalto', 'system')|list %}
{%- for m in messages %}{{ sep() }}{{ row.next() }}{{ m.get('content', '')|default('')|replace('\n', ' ')|lower }}{{ loop.cycle('a', 'b') }}{% endfor %}
{%- for k, v in (tools[0] if tools else {}).items() %}{{ k|upper }}={{ v|string|length }}{% endfor %}
{%- for i in range(3) %}{{ i }}{% endfor %}{{ range(2)|list|tojson }}
{# a comment mentioning __class__ and os.popen is not code #}
{% raw %}{{ literal.__class__ }} shown verbatim{% endraw %}
{{ '{{ not a tag }}' }}{{ "%s items"|format(messages|length) }}{{ {'a': {'b': 1}}['a'] }}
{{ message['content'] if message['content'] is string else message['content'][0]['text'] }}`,

	"command-r": `{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% if system_message != false %}{{ '<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>' + system_message + '<|END_OF_TURN_TOKEN|>' }}{% endif %}{% for message in loop_messages %}{% set content = message['content'] %}{% if message['role'] == 'user' %}{{ '<|START_OF_TURN_TOKEN|><|USER_TOKEN|>' + content.strip() + '<|END_OF_TURN_TOKEN|>' }}{% elif message['role'] == 'assistant' %}{{ '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>'  + content.strip() + '<|END_OF_TURN_TOKEN|>' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>' }}{% endif %}`,

	"sentencepiece-unicode-escape": `{% for m in messages %}{{ '\u2581' + m['content'] + '\n' }}{% endfor %}`,

	// Shapes the render-time evaluator folds: indexing and slicing,
	// %-formatting, dict keys, namespace flags and carried strings.
	"evaluated-benign": `{%- set ns = namespace(found=false, sep='_', prefix='<' ~ '|') %}
{%- set roles = dict(user=1, assistant=2) %}{%- set first_role = roles|first %}
{%- for message in messages %}{%- if loop.index0 == 0 %}{% set ns.found = true %}{% endif %}
{{- ns.prefix ~ message['role'] ~ '|>' ~ message['content'][:200] ~ message['content'][-3:] ~ (message['content']|list)[0] }}
{{- '%s_%s' % (message['role'], loop.index) }}{{ '%d items, %s'|format(messages|length, 'x') }}{{ 'tool_call'[:4] ~ ns.sep ~ 'id' }}
{{- (messages|string)[0] }}{{ ('a', 'b')|join(ns.sep) }}{{ 'abc'[::-1] }}{{ '{}_{}'.format('init', 'x') }}
{%- endfor %}{% set tail %}<|end|>{% endset %}{{ tail }}`,
}

func TestBenignTemplates(t *testing.T) {
	t.Parallel()
	for name, src := range benignTemplates {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if v := analyzeTemplate(src); v.severity != scan.SeverityNone {
				t.Errorf("benign template graded %s: %v\nsnippet: %s", v.severity, v.reasons, v.snippet)
			}
		})
	}
}

func TestMaliciousTemplates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		src    string
		want   scan.Severity
		reason string // a substring of one of the reasons
	}{
		{"corpus payload", sstiPopen, scan.SeverityCritical, "attribute .popen"},
		{"cycler globals", `{{ cycler.__init__.__globals__.os.popen('id').read() }}`, scan.SeverityCritical, "Jinja global cycler"},
		{"lipsum globals subscript", `{{ lipsum.__globals__['os'].popen('id').read() }}`, scan.SeverityCritical, `subscript ["os"]`},
		{"joiner builtins eval", `{{ joiner.__init__.__globals__.__builtins__.eval("__import__('os').system('id')") }}`, scan.SeverityCritical, "attribute .eval"},
		{"template reference", `{{ self._TemplateReference__context.cycler.__init__.__globals__.os.system('id') }}`, scan.SeverityCritical, "private attribute _TemplateReference__context"},
		{"subclasses walk to sys.modules", `{{ ''.__class__.__mro__[1].__subclasses__()[104].__init__.__globals__['sys'].modules['os'].popen('ls').read() }}`, scan.SeverityCritical, "attribute __subclasses__"},
		{"attr filter chain", `{{ ()|attr('__class__')|attr('__base__')|attr('__subclasses__')()|attr('__getitem__')(137)|attr('__init__')|attr('__globals__')|attr('__getitem__')('popen')('id')|attr('read')() }}`, scan.SeverityCritical, `attr filter fetching "__class__"`},
		{"hex escaped attr chain", `{{ ()|attr('\x5f\x5fclass\x5f\x5f')|attr('\x5f\x5fbase\x5f\x5f')|attr('\x5f\x5fsubclasses\x5f\x5f')()|attr('\x5f\x5fgetitem\x5f\x5f')(137)|attr('\x5f\x5finit\x5f\x5f')|attr('\x5f\x5fglobals\x5f\x5f')|attr('\x5f\x5fgetitem\x5f\x5f')('\x70\x6f\x70\x65\x6e')('id')|attr('read')() }}`, scan.SeverityCritical, "escaped characters"},
		{"unicode escaped subscript", `{{ lipsum['\u005f\u005fglobals\u005f\u005f']['os'].popen('id').read() }}`, scan.SeverityCritical, `string "__globals__"`},
		{"octal and named escapes", `{{ lipsum['\137\137globals\N{LOW LINE}\N{LOW LINE}']['os'].popen('id').read() }}`, scan.SeverityCritical, `string "__globals__"`},
		{"concatenated names", `{% set g = '__glo' ~ 'bals__' %}{{ (cycler|attr('__init__')|attr(g))['o' ~ 's'].popen('id').read() }}`, scan.SeverityCritical, "__globals__ assembled"},
		{"join trick", `{{ ((lipsum|attr(['__glo','bals__']|join))[['o','s']|join]).popen('id').read() }}`, scan.SeverityCritical, "__globals__ assembled"},
		{"flask request", `{{ request.application.__globals__.__builtins__.__import__('os').popen('id').read() }}`, scan.SeverityCritical, "attribute __import__"},
		{"config", `{{ config.__class__.__init__.__globals__['os'].popen('ls').read() }}`, scan.SeverityCritical, "Jinja global config"},
		{"namespace", `{{ namespace.__init__.__globals__.os.system('id') }}`, scan.SeverityCritical, "attribute .system"},
		{"underscore from character code", `{% set u = '%c'|format(95) %}{{ (lipsum|attr(u*2 ~ 'globals' ~ u*2))['os'].popen('id').read() }}`, scan.SeverityCritical, "underscore built from a character code"},
		{"open file", `{{ ().__class__.__base__.__subclasses__()[40]('/etc/passwd').read() }}`, scan.SeverityCritical, "attribute .read"},

		// Names assembled at render time (red-team samples and variants).
		{"underscore from lipsum text", `{% set u=(lipsum|string)[18] %}{% set g=u*2~'glo'~'bals'~u*2 %}{{ (lipsum|attr(g))[u*2~'buil'~'tins'~u*2][u*2~'imp'~'ort'~u*2]('o'~'s')['pop'~'en']('id').read() }}`, scan.SeverityCritical, "underscore taken from the text of lipsum"},
		{"underscore from lipsum text list", `{% set u=(lipsum|string|list)[18] %}{{ (cycler|attr(u~u~'init'~u~u)|attr(u~u~'globals'~u~u)).os.popen('id').read() }}`, scan.SeverityCritical, "__init__ built at render time"},
		{"underscore from lipsum text alone", `{{ (lipsum|string|list)[18] }}`, scan.SeverityHigh, "underscore taken from the text of lipsum"},
		{"unknown object text", `{% set u=(self|string)[7] %}{{ (cycler|attr(u*2~'init'~u*2)).__call__ }}`, scan.SeverityHigh, "an object's text"},
		{"dict keyword join", `{% set a=dict(_=1)|first %}{% set c=(a,a,dict(globals=1)|first,a,a)|join %}{{ (joiner|attr((a,a,dict(init=1)|first,a,a)|join)|attr(c)).os.popen('id').read() }}`, scan.SeverityCritical, "dict keys"},
		{"dict keys joined", `{% set u=dict(__=1)|join %}{{ (cycler|attr(u~'init'~u)|attr(u~'globals'~u))['os'].popen('id').read() }}`, scan.SeverityCritical, "__globals__ built at render time by"},
		{"dict keys list", `{% set k=dict(_=1)|list %}{{ messages|attr(k[0]*2~'class'~k[0]*2) }}`, scan.SeverityHigh, "__class__ built at render time"},
		{"namespace carry", `{% set ns=namespace(a='_'*2) %}{% set ns.b=ns.a~'init'~ns.a %}{% set ns.c=ns.a~'globals'~ns.a %}{{ (cycler|attr(ns.b)|attr(ns.c)).os.popen('id').read() }}`, scan.SeverityCritical, "set/namespace"},
		{"namespace subscript", `{% set ns=namespace() %}{% set ns.u=['_','_']|join %}{{ messages[ns['u']~'class'~ns.u] }}`, scan.SeverityHigh, "__class__ built at render time"},
		{"percent s", `{{ (cycler|attr('%sinit%s'%('__','__'))|attr('%sglobals%s'%('__','__'))).os.popen('id').read() }}`, scan.SeverityCritical, "%-formatting"},
		{"percent c tuple", `{{ (cycler|attr('%c%cinit%c%c'%(95,95,95,95))).__globals__.os.popen('id').read() }}`, scan.SeverityCritical, "__init__ built at render time"},
		{"format filter s", `{{ messages|attr('%s%sclass%s%s'|format('_','_','_','_')) }}`, scan.SeverityHigh, "%-formatting"},
		{"brace format", `{{ messages|attr('{0}{0}class{0}{0}'.format('_')) }}`, scan.SeverityHigh, "__class__ built at render time"},
		{"slice step", `{{ (cycler|attr('_x_xixnxixtx_x_'[::2])|attr('_x_xgxlxoxbxaxlxsx_x_'[::2]))['oxs'[::2]]['pxoxpxexn'[::2]]('id').read() }}`, scan.SeverityCritical, "indexing or slicing"},
		{"slice reversed step", `{{ messages['_x_xsxsxaxlxcx_x_'[::-2]] }}`, scan.SeverityHigh, "__class__ built at render time"},
		{"slice range", `{{ messages['zz__class__zz'[2:11]] }}`, scan.SeverityHigh, `string "__class__"`},
		{"index characters", `{% set s='a_b' %}{{ messages[s[1]~s[1]~'class'~s[-2]~s[1]] }}`, scan.SeverityHigh, "__class__ built at render time"},
		{"loop over one character", `{% for u in '__' %}{{ messages|attr(u~u~'class'~u~u) }}{% endfor %}`, scan.SeverityHigh, "__class__ built at render time"},
		{"block set", `{%- set g -%} __globals__ {%- endset %}{{ (lipsum|attr(g)).os.popen('id').read() }}`, scan.SeverityCritical, "a {% set %} block"},
		{"computed exec subscript", `{{ lipsum.__globals__['oxs'[::2]]['pxoxpxexn'[::2]]('id') }}`, scan.SeverityCritical, `subscript "popen" built at render time`},

		{"subclasses listing", `{{ ''.__class__.__mro__[1].__subclasses__() }}`, scan.SeverityHigh, "attribute __mro__"},
		{"attr dunder", `{{ messages|attr('__class__') }}`, scan.SeverityHigh, `attr filter fetching "__class__"`},
		{"subscript dunder", `{{ messages['__class__'] }}`, scan.SeverityHigh, `string "__class__"`},
		{"assembled across tags", `{% set a = '__cla' %}{% set b = 'ss__' %}{{ messages[a ~ b] }}`, scan.SeverityHigh, "__class__ assembled"},
		{"reversed", `{{ messages[('__' ~ 'ssalc' ~ '__')|reverse] }}`, scan.SeverityHigh, "reversed"},
		{"slice reversed", `{{ messages['__ssalc__'[::-1]] }}`, scan.SeverityHigh, "reversed"},
		{"replace", `{{ messages['XXclassXX'|replace('X', '_')] }}`, scan.SeverityHigh, "with replace"},
		{"lower", `{{ messages['__CLASS__'.lower()] }}`, scan.SeverityHigh, "lower-cased"},
		{"repeated underscores", `{{ messages|attr('_'*2 ~ 'class' ~ '_'*2) }}`, scan.SeverityHigh, "__class__ assembled"},
		{"str.format field", `{{ '{0.__class__}'.format(messages) }}`, scan.SeverityHigh, `string "__class__"`},
		{"dunder keyword", `{{ dict(__class__=1) }}`, scan.SeverityHigh, "name __class__"},

		{"stepping stone", `{{ cycler.next }}`, scan.SeverityMedium, "Jinja global cycler"},
		{"object text character", `{{ (lipsum|string)[1] }}`, scan.SeverityMedium, "characters taken from the text of lipsum"},
		{"popen attribute", `{{ messages.popen('id') }}`, scan.SeverityMedium, "attribute .popen"},
		{"attr popen", `{{ messages|attr('popen') }}`, scan.SeverityMedium, `attr filter fetching "popen"`},
		{"assembled popen", `{{ messages['po' ~ 'pen'] }}`, scan.SeverityMedium, "popen assembled"},
		{"private attribute", `{{ messages._private }}`, scan.SeverityMedium, "private attribute _private"},
		{"escaped ascii", `{{ '\x41\x42' }}`, scan.SeverityMedium, "escaped characters"},
		{"include", `{% include 'other.j2' %}`, scan.SeverityMedium, "loads another template"},
		{"request args", `{{ request.args }}`, scan.SeverityMedium, "Jinja global request"},
		{"string list characters", `{{ (lipsum|string|list)[1] }}`, scan.SeverityMedium, "string|list"},
		{"bare eval", `{{ eval('1+1') }}`, scan.SeverityMedium, "name eval"},
		{"attr computed", `{{ messages|attr(name) }}`, scan.SeverityMedium, "computed name"},
		{"too many tokens", "{{ " + strings.Repeat("a ~ ", maxTokens/2) + "}}", scan.SeverityMedium, "not analysed"},
		{"payload after the token budget", "{{ " + strings.Repeat("a ~ ", maxTokens/2) + "}}{{ x.__class__ }}", scan.SeverityMedium, "not analysed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := analyzeTemplate(tt.src)
			if v.severity != tt.want {
				t.Errorf("severity = %s, want %s; reasons %v", v.severity, tt.want, v.reasons)
			}
			if !strings.Contains(strings.Join(v.reasons, "; "), tt.reason) {
				t.Errorf("reasons %v lack %q", v.reasons, tt.reason)
			}
			if v.snippet == "" || len(v.snippet) > maxSnippet+8 {
				t.Errorf("snippet %q: want a non-empty snippet of at most %d bytes", v.snippet, maxSnippet)
			}
		})
	}
}

func TestSnippet(t *testing.T) {
	t.Parallel()
	long := "{{ " + strings.Repeat("x ~ ", 200) + "lipsum.__globals__['os'].popen('id').read() }}"
	v := analyzeTemplate("Hello {{ name }}\n" + long)
	if v.severity != scan.SeverityCritical {
		t.Fatalf("severity %s", v.severity)
	}
	if !strings.Contains(v.snippet, "__globals__") || !strings.HasPrefix(v.snippet, "...") {
		t.Errorf("snippet %q does not centre on the walk", v.snippet)
	}
	v = analyzeTemplate("{{ x.__class__ ~ '\x1b[2J\u202e' }}")
	if strings.ContainsAny(v.snippet, "\x1b\u202e") || !strings.Contains(v.snippet, `\u001b`) {
		t.Errorf("snippet %q is not sanitised", v.snippet)
	}
	if v := analyzeTemplate("{{ x.__class__ }}"); v.snippet != "{{ x.__class__ }}" || v.at != 0 {
		t.Errorf("snippet %q at %d", v.snippet, v.at)
	}
}

func TestLexer(t *testing.T) {
	t.Parallel()
	tags := (&lexer{src: `a {{ '}}' ~ "x\"y" }} b {# {{ c.__class__ }} #} {% raw %}{{ d }}{% endraw %}{%- set e = {'k': [1, 2]} -%}{{ f`, budget: maxTokens}).template()
	var got []string
	for _, tg := range tags {
		var parts []string
		for _, tk := range tg.toks {
			parts = append(parts, tk.text)
		}
		got = append(got, strings.Join(parts, " "))
	}
	want := []string{`}} ~ x"y`, `- set e = { k : [ 1 , 2 ] } -`, `f`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("tags = %q, want %q", got, want)
	}
}

// TestAdversarialTemplates runs shapes that once made the analyser
// quadratic (many replace views in one tag) or memory-hungry (huge tags);
// they must finish quickly with a sane verdict.
func TestAdversarialTemplates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want scan.Severity
	}{
		{"many replace filters", "{{ " + strings.Repeat("'a'|replace('a','bbbbbbbb') ~ ", 5000) + "}}", scan.SeverityNone},
		{"many repetitions", "{{ " + strings.Repeat("'ab'*64 ~ ", 20000) + "}}", scan.SeverityNone},
		{"unclosed brackets", "{{" + strings.Repeat("(", 100000) + " x.__class__ }}", scan.SeverityHigh},
		{"unclosed string", "{{ '" + strings.Repeat("x", 100000), scan.SeverityNone},
		{"many openers", strings.Repeat("{{", 50000), scan.SeverityNone},
		{"unclosed raw", "{% raw %}{{ x.__class__ }}", scan.SeverityNone},
		{"unclosed comment", "{# {{ x.__class__ }}", scan.SeverityNone},
		{"deep nesting", "{{ " + strings.Repeat("(", 100000) + "'_'" + strings.Repeat(")", 100000) + " }}", scan.SeverityNone},
		{"long concatenation", "{{ 'x'" + strings.Repeat(" ~ 'abcdefgh'", 100000) + " }}", scan.SeverityNone},
		{"many repeated strings", strings.Repeat("{% set a = a ~ 'ab'*64 %}", 20000), scan.SeverityNone},
		{"many namespace attributes", "{% set ns = namespace() %}" + strings.Repeat("{% set ns.a = ns.a ~ ns.a ~ 'x' %}", 5000), scan.SeverityNone},
		{"huge slice", "{{ ('ab'*64*64)[::1] ~ ('ab'*64)[-99999:99999:1] }}", scan.SeverityNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if v := analyzeTemplate(tt.src); v.severity != tt.want {
				t.Errorf("severity = %s, want %s (%v)", v.severity, tt.want, v.reasons)
			}
		})
	}
}
