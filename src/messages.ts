// User-facing texts. Chinese is the default (the guide's language); English on request.
/** The two languages of every user-facing text; zh is the default (the guide's language). */
export type Lang = 'zh' | 'en';

export type Bilingual = { zh: string; en: string };

/** A text to be worded later, in the reader's language: a message key and its parameters. */
export interface Phrase {
  key: MessageKey;
  params?: MessageParams;
}
/** A parameter is a value, a nested text, or a lower layer's own wording in both languages. */
export type MessageParam = string | number | undefined | Phrase | Bilingual;
export type MessageParams = Record<string, MessageParam>;

export const phrase = (key: MessageKey, params?: MessageParams): Phrase => ({ key, params });

const MESSAGES = {
  // Envelope summaries (top-level `message`).
  'ok': { zh: '操作成功', en: 'OK' },
  'task.created': { zh: '任务创建成功', en: 'Task created' },
  'task.execute_started': { zh: '任务执行已启动', en: 'Task execution started' },
  'task.execute_background': { zh: '任务正在后台执行，请通过状态接口查询进度', en: 'The task is running in the background; poll the status endpoint for progress' },
  'task.status': { zh: '获取任务状态成功', en: 'Task status retrieved' },
  'task.list': { zh: '获取任务列表成功', en: 'Task list retrieved' },
  'task.query': { zh: '任务查询成功', en: 'Task query succeeded' },
  'task.cancel_requested': { zh: '已请求取消任务', en: 'Cancellation requested' },
  'task.cancelled': { zh: '任务已取消', en: 'Task cancelled' },
  'task.deleted': { zh: '任务删除成功', en: 'Task deleted' },
  'task.batch_deleted': { zh: '批量删除完成', en: 'Batch delete finished' },
  'files.list': { zh: '获取文件列表成功', en: 'File list retrieved' },
  'relationships.read': { zh: '获取表关系成功', en: 'Relationships retrieved' },
  'relationships.saved': { zh: '关联覆盖已保存，下次执行 ddl_generation 时生效', en: 'Relationship overrides saved; the next ddl_generation applies them' },
  'table_list.uploaded': { zh: '表清单文件上传成功', en: 'Table list uploaded' },
  'table_list.info': { zh: '获取表清单信息成功', en: 'Table list info retrieved' },
  'table_list.created': { zh: '表清单创建成功', en: 'Table list created' },
  'logs.list': { zh: '获取任务日志成功', en: 'Task logs retrieved' },
  'logs.query': { zh: '高级日志查询成功', en: 'Log query succeeded' },
  'health.ok': { zh: '服务运行正常', en: 'Service is healthy' },

  // Error summaries by HTTP status.
  'status.400': { zh: '请求参数错误', en: 'Invalid request parameters' },
  'status.401': { zh: '未授权', en: 'Unauthorized' },
  'status.404': { zh: '资源不存在', en: 'Not found' },
  'status.405': { zh: '请求方法不允许', en: 'Method not allowed' },
  'status.409': { zh: '请求冲突', en: 'Conflict' },
  'status.413': { zh: '请求内容过大', en: 'Payload too large' },
  'status.415': { zh: '不支持的内容类型', en: 'Unsupported media type' },
  'status.500': { zh: '服务器内部错误', en: 'Internal server error' },
  'status.503': { zh: '服务暂不可用', en: 'Service unavailable' },

  // Error details (error.details).
  'err.task_not_found': { zh: '任务不存在: {task_id}', en: 'Task not found: {task_id}' },
  'err.pairs_not_ready': { zh: '任务 {task_id} 尚未生成问答对，请先执行 qa_generation', en: 'Task {task_id} has no question–SQL pairs yet: run qa_generation first' },
  'err.pair_not_found': { zh: '问答对不存在: {pair_id}', en: 'No such pair: {pair_id}' },
  'err.pair_sql_rejected': { zh: 'SQL 不是单条只读查询: {reason}', en: 'The SQL is not one read-only query: {reason}' },
  'err.pair_sql_invalid': { zh: 'SQL 无法在业务数据库上执行（EXPLAIN 失败）: {reason}', en: 'The SQL does not run on the business database (EXPLAIN failed): {reason}' },
  'err.pair_lint_error': { zh: 'SQL 语义检查未通过: {findings}', en: 'The SQL fails the semantic checks: {findings}' },
  'err.pair_not_previewable': { zh: '问答对 {pair_id} 调用了不在安全列表中的函数，不能预览', en: 'Pair {pair_id} calls a function that is not on the side-effect-free list: no preview' },
  'pairs.list': { zh: '获取问答对成功', en: 'Pairs retrieved' },
  'pairs.stats': { zh: '获取问答对统计成功', en: 'Pair statistics retrieved' },
  'pairs.preview': { zh: '预览成功', en: 'Preview ready' },
  'pairs.saved': { zh: '问答对已保存（训练数据加载时生效）', en: 'Pair saved (training_load applies it)' },
  'err.schema_not_ready': { zh: '任务 {task_id} 尚未生成 schema.json，请先执行 ddl_generation', en: 'Task {task_id} has no schema.json yet: run ddl_generation first' },
  'err.relationships_file': { zh: 'relationships.json 格式不正确: {reason}', en: 'relationships.json is invalid: {reason}' },
  'err.unknown_columns': { zh: '以下字段不在任务的表结构中: {columns}', en: 'These columns are not in the task\'s schema: {columns}' },
  'err.task_already_running': { zh: '任务已在执行: {task_id}，请等待当前执行完成', en: 'Task {task_id} is already running; wait for the current run to finish' },
  'err.task_not_running': { zh: '任务未在执行，无法取消: {task_id}（状态: {status}）', en: 'Task {task_id} is not running (status: {status}); nothing to cancel' },
  'err.task_running_delete': { zh: '任务正在执行，不能删除: {task_id}（可使用 force=true 强制删除）', en: 'Task {task_id} is running and cannot be deleted (use force=true)' },
  'err.invalid_execution_mode': { zh: "无效的执行模式，必须是 'complete' 或 'step'", en: "Invalid execution mode: must be 'complete' or 'step'" },
  'err.missing_step_name': { zh: '步骤模式需要指定 step_name', en: 'step_name is required when execution_mode is step' },
  'err.invalid_step_name': { zh: '无效的步骤名称: {value}，有效值: {allowed}', en: 'Invalid step name: {value}; valid names: {allowed}' },
  'err.invalid_task_id': { zh: '无效的任务ID: {task_id}（只允许字母、数字、下划线和连字符，最长64个字符）', en: 'Invalid task id: {task_id} (letters, digits, _ and - only, at most 64 characters)' },
  'err.invalid_json': { zh: '请求体不是有效的JSON: {reason}', en: 'The request body is not valid JSON: {reason}' },
  'err.invalid_param': { zh: '参数 {param} 无效: {reason}', en: 'Invalid parameter {param}: {reason}' },
  'err.missing_param': { zh: '缺少必需参数: {param}', en: 'Missing required parameter: {param}' },
  'err.unknown_params': { zh: '未知参数: {param}', en: 'Unknown parameter(s): {param}' },
  'err.file_not_found': { zh: '文件不存在: {file}', en: 'File not found: {file}' },
  'err.invalid_path': { zh: '无效的文件路径: {file}', en: 'Invalid file path: {file}' },
  'err.table_list_file_not_found': { zh: '表清单文件不存在: {file}', en: 'Table list file not found: {file}' },
  'err.table_list_file_outside': { zh: '表清单文件必须位于输入目录内: {file}', en: 'The table list file must be inside the input folder: {file}' },
  'err.table_list_required': { zh: '缺少表清单: 请先上传表清单文件或创建表清单', en: 'No table list: upload a table list file or create one first' },
  'err.table_list_invalid': { zh: '表清单无效: {reason}', en: 'Invalid table list: {reason}' },
  'err.upload_missing_file': { zh: '缺少上传文件: 请使用 multipart/form-data 的 file 字段', en: 'No file uploaded: send it as the multipart/form-data field "file"' },
  'err.upload_empty': { zh: '上传的文件为空', en: 'The uploaded file is empty' },
  'err.upload_type': { zh: '不支持的文件类型: {file}，仅支持 .txt', en: 'Unsupported file type: {file}; only .txt is accepted' },
  'err.upload_too_large': { zh: '上传文件过大，最大允许 {limit}', en: 'The upload is too large; the limit is {limit}' },
  'err.payload_too_large': { zh: '请求体过大', en: 'The request body is too large' },
  'err.unsupported_media_type': { zh: '不支持的内容类型: {type}', en: 'Unsupported content type: {type}' },
  'err.unauthorized': { zh: '缺少或无效的 API 密钥（Authorization: Bearer <key>）', en: 'Missing or invalid API key (Authorization: Bearer <key>)' },
  'err.route_not_found': { zh: '接口不存在: {method} {url}', en: 'No such route: {method} {url}' },
  'err.invalid_db_connection': { zh: "数据库连接字符串必须以 postgresql:// 或 postgres:// 开头（或为内置的 pglite:// 数据库）", en: 'The database connection string must start with postgresql:// or postgres:// (or be an embedded pglite:// database)' },
  'err.store_unreachable': { zh: '任务存储数据库不可用: {store}', en: 'The task store database is unreachable: {store}' },
  'err.internal': { zh: '服务器内部错误，请查看系统日志 (app.log)', en: 'Internal server error; see the system log (app.log)' },
  'err.step_not_available': { zh: '步骤 {step} 在当前版本中尚不可用', en: 'Step {step} is not available in this version yet' },

  // Vector store (training_load, /api/v0/data_pipeline/vector/*).
  'vector.search': { zh: '向量检索完成', en: 'Vector search finished' },
  'vector.stats': { zh: '获取向量库统计成功', en: 'Vector store statistics retrieved' },
  'vector.evaluate': { zh: '检索自测完成', en: 'Retrieval self-test finished' },
  'vector.backup_done': { zh: 'Vector表备份完成', en: 'Vector table backup finished' },
  'vector.restore_list': { zh: '获取Vector表备份列表成功', en: 'Vector table backups listed' },
  'vector.restored': { zh: 'Vector表恢复完成', en: 'Vector tables restored' },
  'err.vector_backup_failed': { zh: 'Vector表备份失败（未清空任何数据）: {reason}', en: 'Vector table backup failed (nothing was truncated): {reason}' },
  'err.vector_truncate_failed': { zh: 'Vector表清空失败: {reason}', en: 'Vector table truncate failed: {reason}' },
  'err.vector_restore_failed': { zh: 'Vector表恢复失败（数据未改变）: {reason}', en: 'Vector table restore failed (nothing was changed): {reason}' },
  'err.vector_backup_not_found': { zh: 'Vector表备份不存在: {reason}', en: 'Vector table backup not found: {reason}' },
  'err.vector_backup_invalid': { zh: 'Vector表备份校验失败，已拒绝恢复（数据未改变）: {reason}', en: 'The vector table backup failed verification; restore refused (nothing was changed): {reason}' },
  'err.vector_store': { zh: '向量库错误: {reason}', en: 'Vector store error: {reason}' },
  'err.embedder_unavailable': { zh: '嵌入模型不可用: {reason}', en: 'The embedder is not available: {reason}' },

  // Database tools API (guide §6) and ddl_generation.
  'database.tables': { zh: '获取表列表成功', en: 'Table list retrieved' },
  'database.table_ddl': { zh: '获取表DDL成功', en: 'Table DDL retrieved' },
  'err.database_connection': { zh: '数据库连接失败: {url}（{reason}）', en: 'Cannot connect to the database {url}: {reason}' },
  'err.table_not_found': { zh: '表不存在或无权读取: {table}', en: 'Table not found or not readable: {table}' },
  'err.tables_not_found': { zh: '以下表不存在或无法读取: {tables}', en: 'These tables do not exist or cannot be read: {tables}' },
  'err.invalid_table_name': { zh: '无效的表名: {table}（{reason}）', en: 'Invalid table name {table}: {reason}' },
  'err.ddl_generation_failed': { zh: '生成表文档失败: {reason}', en: 'Generating the table documentation failed: {reason}' },

  // A lower layer's own wording, in both languages (table lists, task paths, connection strings).
  'err.worded_below': { zh: '{reason}', en: '{reason}' },
  // Errors built from a lower layer's reason (the reason is worded there, in both languages).
  'err.invalid_db_connection_reason': { zh: 'db_connection 无效: {reason}', en: 'Invalid db_connection: {reason}' },
  'err.task_table_list_invalid': { zh: '任务目录中的 {file} {line}{reason}（请重新上传或创建表清单）', en: '{file} in the task directory, {line}{reason} (upload or create the table list again)' },
  'err.table_list_line': { zh: '第 {line} 行: ', en: 'line {line}: ' },
  'err.system_tables_refused': { zh: '不接受系统目录表: {tables}（确需读取时创建任务时设置 include_system_schemas: true）', en: 'System catalog tables are not accepted: {tables} (set include_system_schemas: true when creating the task to read them)' },
  'err.path_refused': { zh: '拒绝访问 {file}: 符号链接或非普通文件 ({reason})', en: 'Refused {file}: {reason}' },
  'err.invalid_request': { zh: '请求无效: {reason}', en: 'Invalid request: {reason}' },
  'err.vector_unknown_tables': { zh: '参数 questions[].tables 无效: 向量库中没有这些表的文档: {tables}。已加载的表: {known}', en: 'Invalid parameter questions[].tables: the vector store has no documents of {tables}. Loaded tables: {known}' },
  'err.vector_unknown_table': { zh: '第 {question} 题的 {table}', en: '{table} (question {question})' },
  'err.vector_ambiguous_table': { zh: '第 {question} 题的 {table}（有歧义: {candidates}，请写 schema.table）', en: '{table} (question {question}; ambiguous: {candidates}, write schema.table)' },
  'err.vector_list_separator': { zh: '；', en: '; ' },

  'err.malformed_multipart': { zh: 'multipart 请求体无效: {reason}', en: 'Malformed multipart body: {reason}' },
  'err.vector_nothing_to_do': { zh: 'backup_vector_tables 与 truncate_vector_tables 均为 false，无事可做', en: 'backup_vector_tables and truncate_vector_tables are both false: nothing to do' },
  'reason.nul_character': { zh: '包含 NUL 字符 (U+0000) 或不成对的代理字符', en: 'contains a NUL character (U+0000) or an unpaired surrogate' },

  // Schema validation (http/validation.ts): one sentence per issue, joined with '; '.
  'validation.where_query': { zh: '查询参数', en: 'query parameter' },
  'validation.where_path': { zh: '路径参数', en: 'path parameter' },
  'validation.where_body': { zh: '参数', en: 'parameter' },
  'validation.missing': { zh: '缺少必需参数: {param}', en: 'Missing required {where}: {param}' },
  'validation.invalid': { zh: '{where} {param} 无效: {reason}', en: 'Invalid {where} {param}: {reason}' },
  'reason.unknown_parameter': { zh: '不支持的参数', en: 'unknown parameter' },
  'reason.expected_string': { zh: '应为字符串', en: 'expected string' },
  'reason.expected_number': { zh: '应为数字', en: 'expected number' },
  'reason.expected_int': { zh: '应为整数', en: 'expected int' },
  'reason.expected_boolean': { zh: '应为布尔值 (true/false)', en: 'expected boolean' },
  'reason.expected_array': { zh: '应为数组', en: 'expected array' },
  'reason.expected_object': { zh: '应为JSON对象', en: 'expected object' },
  'reason.expected_json_object': { zh: '应为JSON对象', en: 'expected a JSON object' },
  'reason.expected': { zh: '应为{type}', en: 'expected {type}' },
  'reason.one_of': { zh: '必须是 {values} 之一', en: 'must be one of {values}' },
  'reason.not_empty': { zh: '不能为空', en: 'must not be empty' },
  'reason.min_length': { zh: '长度必须至少为 {limit}', en: 'length must be at least {limit}' },
  'reason.max_length': { zh: '长度必须最多为 {limit}', en: 'length must be at most {limit}' },
  'reason.min_items': { zh: '元素个数必须至少为 {limit}', en: 'must have at least {limit} items' },
  'reason.max_items': { zh: '元素个数必须最多为 {limit}', en: 'must have at most {limit} items' },
  'reason.min_value': { zh: '必须大于等于 {limit}', en: 'must be ≥ {limit}' },
  'reason.max_value': { zh: '必须小于等于 {limit}', en: 'must be ≤ {limit}' },
  'reason.invalid_format': { zh: '格式无效', en: 'invalid format' },
  'reason.invalid': { zh: '无效', en: 'invalid' },
  'reason.as_given': { zh: '{reason}', en: '{reason}' },

  // The CLI: `demo` report, progress lines, `vector evaluate`, `run`.
  'demo.task_name': { zh: '演示: 高速公路服务区', en: 'demo: highway service areas' },
  'demo.steps_unavailable': { zh: '注意: 当前版本尚未提供步骤 {steps}，流程会在该步骤停止', en: 'Note: step(s) {steps} are not available in this build; the run stops there' },
  'demo.report_title': { zh: '==== data-pipeline 演示报告 ({task_id}) ====', en: '==== data-pipeline demo report ({task_id}) ====' },
  'demo.status': { zh: '状态', en: 'Status' },
  'demo.step_unavailable': { zh: '  ✗ {step}: 当前版本尚未提供该步骤 (STEP_NOT_AVAILABLE)', en: '  ✗ {step}: not available in this build yet (STEP_NOT_AVAILABLE)' },
  'demo.tables': { zh: '表', en: 'Tables' },
  'demo.pairs': { zh: '问答对', en: 'Question-SQL pairs' },
  'demo.validity': { zh: 'SQL验证', en: 'Validity' },
  'demo.validity_counts': { zh: '{valid}/{total} 有效, {invalid} 无效', en: '{valid}/{total} valid, {invalid} invalid' },
  'demo.validity_repaired': { zh: '{valid}/{total} 有效, {repaired} 已修复, {invalid} 无效', en: '{valid}/{total} valid, {repaired} repaired, {invalid} invalid' },
  'demo.rows_loaded': { zh: '向量加载', en: 'Rows loaded' },
  'demo.load_counts': { zh: '(新增 {added}, 未变 {unchanged}, 失败 {failed})', en: '(added {added}, unchanged {unchanged}, failed {failed})' },
  'demo.files': { zh: '文件', en: 'Files' },
  'demo.missing': { zh: ' (不存在)', en: ' (missing)' },
  'demo.sample_search': { zh: '检索示例', en: 'Sample search' },
  'demo.no_results': { zh: '  (无结果)', en: '  (no results)' },
  'demo.dashboard': { zh: '看板: {url}/   (serve 运行时)', en: 'Dashboard: {url}/   (while serving)' },
  'demo.try': { zh: '试试: {command}', en: 'Try: {command}' },

  'step_label.ddl_generation': { zh: 'DDL/MD文档生成', en: 'DDL/MD generation' },
  'step_label.qa_generation': { zh: 'Question-SQL生成', en: 'Question-SQL generation' },
  'step_label.sql_validation': { zh: 'SQL验证', en: 'SQL validation' },
  'step_label.training_load': { zh: '训练数据加载', en: 'Training data load' },
  'progress.started': { zh: '开始', en: 'started' },
  'progress.task': { zh: '任务 {task_id} → {dir}', en: 'Task {task_id} → {dir}' },
  'progress.validation_funnel': {
    zh: 'sql_validation: 生成 {generated} → 可解析 {parsed} → EXPLAIN {explain_valid} → 语义检查通过 {lint_clean} → 含义核对通过 {meaning_checked} → 修复 +{repaired_in_funnel} → 去重后 {deduplicated} → 保留 {kept}',
    en: 'sql_validation: generated {generated} → parsed {parsed} → EXPLAIN {explain_valid} → lint-clean {lint_clean} → meaning-checked {meaning_checked} → repaired +{repaired_in_funnel} → deduplicated {deduplicated} → kept {kept}',
  },
  'evaluate.unreadable': { zh: '无法读取问题集 {file}: {reason}', en: 'cannot read the question set {file}: {reason}' },
  'evaluate.embedder': { zh: '嵌入模型: {model} (维度 {dim}); 集合: {collections}', en: 'embedding model: {model} (dim {dim}); collections: {collections}' },
  'evaluate.missed': { zh: '  未命中 {tables}  ← {question}', en: '  missed {tables}  ← {question}' },
  'evaluate.summary': { zh: 'recall@{k}: {recall} ({found}/{needed} 个所需表); 全部命中的问题: {complete}/{questions}', en: 'recall@{k}: {recall} ({found}/{needed} needed tables); questions with every table found: {complete}/{questions}' },
  'cli.run_needs_tables': { zh: '需要 --tables <文件> 或 --table t1,t2', en: 'Give --tables <file> or --table t1,t2' },
  'cli.run_needs_step': { zh: '步骤模式需要 --step', en: '--mode step needs --step' },

  // <table>_detail.md (ddl_generation): artefact text, kept byte for byte.
  'md.flag_pk': { zh: '主键', en: 'PK' },
  'md.flag_not_null': { zh: '非空', en: 'NOT NULL' },
  'md.flag_unique': { zh: '唯一', en: 'unique' },
  'md.flag_auto_increment': { zh: '自增', en: 'auto-increment' },
  'md.flag_generated': { zh: '生成列', en: 'generated' },
  'role.identifier': { zh: '标识', en: 'identifier' },
  'role.foreign_key': { zh: '外键', en: 'foreign key' },
  'role.code': { zh: '编码', en: 'code' },
  'role.label': { zh: '名称', en: 'label' },
  'role.additive_measure': { zh: '可加度量', en: 'additive measure' },
  'role.non_additive_measure': { zh: '不可加度量', en: 'non-additive measure' },
  'role.business_time': { zh: '业务时间', en: 'business time' },
  'role.technical_time': { zh: '技术时间', en: 'technical time' },
  'role.flag': { zh: '标志', en: 'flag' },
  'role.soft_delete': { zh: '软删除', en: 'soft delete' },
  'role.text': { zh: '文本', en: 'text' },
  'role.contact': { zh: '联系方式', en: 'contact' },
  'role.other': { zh: '其他', en: 'other' },
  'kind.table': { zh: '表', en: 'table' },
  'kind.view': { zh: '视图', en: 'view' },
  'kind.materialized_view': { zh: '物化视图', en: 'materialized view' },
  'kind.partitioned_table': { zh: '分区表', en: 'partitioned table' },
  'kind.foreign_table': { zh: '外部表', en: 'foreign table' },
  'md.approx': { zh: '约', en: '~' },
  'md.approx_rows': { zh: '约 ', en: '~' },
  'md.range': { zh: ' [范围: {min} ~ {max}]', en: ' [range: {min} ~ {max}]' },
  'md.source_llm': { zh: ' [LLM生成]', en: ' [LLM]' },
  'md.source_offline': { zh: ' [规则生成]', en: ' [rule-based]' },
  'md.fk_inferred': { zh: '{target}（推断）', en: '{target} (inferred)' },
  'md.fk_inferred_overlap': { zh: '{target}（推断，样本值匹配 {matched}/{sampled}）', en: '{target} (inferred, {matched}/{sampled} sampled values match)' },
  'md.heading_comment': { zh: '## {name}（{comment}）', en: '## {name} ({comment})' },
  'md.summary_comment': { zh: '{name} {kind}{comment}{source}（{rows} 行）', en: '{name} {kind}: {comment}{source} ({rows} rows)' },
  'md.summary': { zh: '{name} {kind}（{rows} 行）', en: '{name} {kind} ({rows} rows)' },
  'md.entity': { zh: '业务实体：{zh}（{en}）', en: 'Entity: {en} ({zh})' },
  'md.inherits': { zh: '继承自 {parent}（查询请使用父表）', en: 'Inherits from {parent} (query the parent)' },
  'md.columns': { zh: '字段列表：', en: 'Columns:' },
  'md.role': { zh: '角色', en: 'role' },
  'md.examples': { zh: '示例', en: 'e.g.' },
  'md.enum': { zh: '枚举', en: 'values' },
  'md.references': { zh: '关联', en: 'references' },
  'md.note_pk': { zh: '- 主键: {columns}', en: '- Primary key: {columns}' },
  'md.note_unique': { zh: '- 唯一约束: ({columns})', en: '- Unique: ({columns})' },
  'md.note_enum': { zh: '- {column} 为枚举字段，包含取值：{values}', en: '- {column} is an enumeration with values: {values}' },
  'md.enum_separator': { zh: '、', en: ', ' },
  'md.note_fk_user': { zh: '- {columns} 关联 {target}（用户声明）', en: '- {columns} references {target} (declared by the user)' },
  'md.note_fk_inferred': { zh: '- {columns} 关联 {target}（推断: {evidence}）', en: '- {columns} references {target} (inferred: {evidence})' },
  'md.note_fk': { zh: '- {columns} 关联 {target}（外键 {name}）', en: '- {columns} references {target} (foreign key {name})' },
  'md.note_referenced': { zh: '- 被 {source} 引用: {columns}', en: '- Referenced by {source}: {columns}' },
  'md.note_referenced_inferred': { zh: '- 被 {source} 引用（推断）: {columns}', en: '- Referenced by {source} (inferred): {columns}' },
  'md.note_check': { zh: '- 约束 {name}: {definition}', en: '- Constraint {name}: {definition}' },
  'md.note_partitioned': { zh: '- 分区方式: {key}', en: '- Partitioned by: {key}' },
  'md.note_index': { zh: '- 索引 {name}', en: '- Index {name}' },
  'md.note_index_unique': { zh: '- 索引 {name}（唯一）', en: '- Index {name} (unique)' },
  'md.notes': { zh: '字段补充说明：', en: 'Notes:' },
  'md.view_definition': { zh: '视图定义：', en: 'View definition:' },

  // <table>.ddl (ddl_generation): SQL comments and notices, kept byte for byte.
  'ddl.source_llm': { zh: ' -- 注释来源: LLM', en: ' -- comment source: llm' },
  'ddl.source_offline': { zh: ' -- 注释来源: 离线规则', en: ' -- comment source: offline' },
  'ddl.fk_deferred': { zh: '外键 {name} 暂未创建: {target} 尚不存在（创建该表的 .ddl 会补上）', en: 'foreign key {name} not created yet: {target} does not exist (its .ddl adds it)' },
  'ddl.name': { zh: '-- 中文名: {name}', en: '-- Name: {name}' },
  'ddl.about': { zh: '约 ', en: 'about ' },
  'ddl.description': {
    zh: '-- 描述: {table}（{kind}），{rows} 行；注释来源: 数据库 {db}，LLM {llm}，离线规则 {offline}',
    en: '-- Description: {table} ({kind}), {rows} rows; comment sources: db {db}, llm {llm}, offline {offline}',
  },
  'ddl.depends_on': { zh: '-- 依赖: {tables}（filename_mapping.txt 中排在本文件之前）', en: '-- Depends on: {tables} (listed before this file in filename_mapping.txt)' },
  'ddl.foreign_table': { zh: '-- 注意: 外部表（服务器 {server}），此处以普通表的形式重建其结构', en: '-- Note: foreign table (server {server}), recreated here as a plain table' },
  'ddl.prelude': { zh: '-- 依赖的类型、函数与序列（可重复执行）', en: '-- Types, functions and sequences it needs (safe to repeat)' },
  'ddl.view_outside_run': { zh: '-- 该视图读取本次未包含的表: {tables}；仅当它们存在时创建', en: '-- This view reads relations outside this run: {tables}; created only where they exist' },
  'ddl.view_skipped': { zh: '跳过 {table}: 依赖的表不存在', en: 'skipped {table}: the relations it reads do not exist' },
  'ddl.foreign_keys': { zh: '-- 外键', en: '-- Foreign keys' },
  'ddl.inferred': { zh: '-- 推断的关联关系（数据库中未声明，仅供参考）:', en: '-- Inferred relationships (not declared in the database; for reference):' },

  // LLM prompts of qa_generation (the schema summary); kept byte for byte.
  'prompt.rows': { zh: '约{rows}行', en: '~{rows} rows' },
  'prompt.relationships_header': { zh: '关联关系（含推断）：', en: 'Relationships (incl. inferred):' },
  'prompt.groups': { zh: '共 {tables} 张表，按关联关系和名称前缀分为 {groups} 组。每组列出最重要的表，其余只给出数量。', en: '{tables} tables in {groups} groups (by relationships and name prefix). Each group names its most important tables; the rest are counted.' },
  'prompt.group_header': { zh: '[组{group}] {tables} 张表：', en: '[group {group}] {tables} tables:' },
  'prompt.groups_left': { zh: '…另有 {groups} 组共 {tables} 张表未列出。', en: '… {groups} more groups with {tables} tables not listed.' },
  'prompt.group_rest': { zh: '；…另 {rest} 张', en: '; … {rest} more' },
  'prompt.soft_delete_flag': { zh: '软删除标记', en: 'soft delete' },
  'prompt.range': { zh: '；范围: {min} ~ {max}', en: '; range: {min} ~ {max}' },
  'prompt.values': { zh: '；枚举值: {values}', en: '; values: {values}' },
  'prompt.examples': { zh: '；示例: {values}', en: '; e.g.: {values}' },
  'prompt.table': { zh: '表', en: 'Table' },
  'prompt.columns_left': { zh: '  - …另有 {columns} 个审计/次要列未列出', en: '  - … {columns} more audit/minor columns' },
  'prompt.tables_left': { zh: '（另有 {count} 张相关表未展开：{tables}）', en: '({count} more related tables not expanded: {tables})' },
  'prompt.no_relationships': { zh: '（无已知关联）', en: '(no known relationships)' },
  'prompt.no_soft_delete': { zh: '这些表没有软删除列。', en: 'These tables have no soft-delete column.' },
  'prompt.soft_delete': { zh: '以下表有软删除列，每个查询都必须排除已删除的行（时间类型的列用 IS NULL，参与 JOIN 的每张表都要加）：{columns}', en: 'These tables have a soft-delete column; every query must exclude deleted rows (IS NULL for timestamp columns, for every joined table): {columns}' },

  // Offline column comments (ddl_generation): what sample values look like.
  'hint.email': { zh: '邮箱地址', en: 'email address' },
  'hint.url': { zh: '链接地址', en: 'URL' },
  'hint.mobile': { zh: '手机号码', en: 'mobile phone number' },
  'hint.coordinates': { zh: '经纬度坐标', en: 'coordinates (lng,lat)' },
  'hint.date': { zh: '日期', en: 'date' },
  'hint.time': { zh: '时间', en: 'time' },
  'hint.identifier': { zh: '标识ID', en: 'identifier' },
  'hint.flag': { zh: '标志', en: 'flag' },

  // A failed step's error_message (the task status), worded in the task's language.
  'step.failed': { zh: '{reason}', en: '{reason}' },
  'step.worker_lost': { zh: '执行该任务的 worker 已停止上报', en: 'The worker running this task stopped reporting' },
  'step.table_not_readable': { zh: '没有 SELECT 权限: {table}', en: 'No SELECT privilege: {table}' },
  'step.file_unreadable': { zh: '{file} 无法读取: {reason}', en: '{file} cannot be read: {reason}' },
  'step.file_not_json': { zh: '{file} 不是有效的 JSON', en: '{file} is not valid JSON' },
  'step.file_not_json_at': { zh: '{file} 不是有效的 JSON（位置 {position}）', en: '{file} is not valid JSON at position {position}' },
  'step.file_shape': { zh: '{file} 的内容不符合约定，位置 {where}: {reason}', en: '{file} does not have the expected shape at {where}: {reason}' },
  'step.invalid_parameters': { zh: '任务参数无效: {problems}', en: 'Invalid task parameter: {problems}' },
  'step.relationships_invalid': { zh: 'relationships 参数格式不正确: {reason}', en: 'Invalid relationships: {reason}' },
  'step.business_db_unreachable': { zh: '业务数据库连接失败: {reason}', en: 'Cannot connect to the business database: {reason}' },
  'step.validation_db_error': { zh: '业务数据库连接失败或资源不足，SQL验证中止: {reason}', en: 'Business database connection or resource error; SQL validation stopped: {reason}' },
  'step.table_list_missing': { zh: '缺少表清单 {file}', en: 'No table list ({file}) in the task directory' },
  'step.table_list_empty': { zh: '表清单为空（{file} 中没有表名）', en: 'The table list is empty ({file} lists no table)' },
  'step.tables_not_found': { zh: '以下表不存在或无权读取: {tables}', en: 'Tables not found or not readable: {tables}' },
  'step.no_tables': { zh: '没有可处理的表: {tables}', en: 'No table to process: {tables}' },
  'step.table_failed': { zh: '表处理失败: {reason}', en: 'Table failed: {reason}' },
  'step.llm_annotation_failed': { zh: '所有表的 LLM 注释调用均失败: {failures}', en: 'Every LLM annotation call failed: {failures}' },
  'step.schema_missing': { zh: '任务目录中没有 {file}，请先执行 ddl_generation', en: '{file} not found in the task directory: run ddl_generation first' },
  'step.schema_no_tables': { zh: '{file} 中没有表', en: 'No tables in {file}' },
  'step.too_few_pairs': { zh: '只生成了 {count} 个问答对，少于请求数 {requested} 的一半', en: 'Only {count} of {requested} requested pairs were produced (fewer than half)' },
  'step.too_few_pairs_failed_themes': { zh: '只生成了 {count} 个问答对，少于请求数 {requested} 的一半；失败的主题: {reasons}', en: 'Only {count} of {requested} requested pairs were produced (fewer than half); failed themes: {reasons}' },
  'step.llm_themes_failed': { zh: 'LLM 主题生成失败（已按重试策略重试），未改用离线主题；可稍后重新执行本步骤，或设置 allow_offline_fallback=true 允许离线主题: {reason}', en: 'The LLM themes call failed after its retries; no offline themes were used: re-run the step, or set allow_offline_fallback=true: {reason}' },
  'step.llm_pending': { zh: 'LLM 不可用，{count} 个问答对待修复或待核对含义，未丢弃；问答对文件未改写，重新执行本步骤将从完整的原始问答对继续: {reason}', en: 'LLM unavailable: {count} pairs pending repair or meaning check, none dropped; the pair file is unchanged and a re-run starts from the full original set: {reason}' },
  'step.pair_file_missing': { zh: '任务目录中没有问答对文件 (qs_*_pair.json)，请先执行 qa_generation', en: 'No question-SQL pair file (qs_*_pair.json) in the task directory: run qa_generation first' },
  'step.pair_file_unreadable': { zh: '问答对文件 {file} 无法读取: 文件不存在', en: 'Pair file {file} cannot be read: not found' },
  'step.validation_result_missing': { zh: '任务目录中没有 {file}，请先执行 sql_validation（或设置 enable_sql_validation=false 直接加载生成的问答对）', en: '{file} not found: run sql_validation first (or disable it with enable_sql_validation=false to load the pairs as generated)' },
  'step.review_mismatch': { zh: '{review}: {file} 含 {count} 个问答对，{meta} 记录保留 {kept} 个', en: '{review}: {file} holds {count} pairs, {meta} says {kept} were kept' },
  'step.embedding_failed': { zh: '嵌入失败 ({model}): {reason}', en: 'Embedding failed ({model}): {reason}' },
  'step.load_incomplete': { zh: '{failed} 行未能加载（{failures}）；{summary}', en: '{failed} row(s) could not be loaded ({failures}); {summary}' },
} satisfies Record<string, Bilingual>;

export type MessageKey = keyof typeof MESSAGES;

export function t(key: MessageKey, lang: Lang, params: MessageParams = {}): string {
  const template: string = MESSAGES[key][lang];
  return template.replace(/\{(\w+)\}/g, (_m, name: string) => word(params[name], lang));
}

function word(value: MessageParam, lang: Lang): string {
  if (value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  return 'key' in value ? t(value.key, lang, value.params) : value[lang];
}

export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(MESSAGES, key);
}

/** Every key with both texts (the catalogue test). */
export function messageEntries(): Array<[MessageKey, Bilingual]> {
  return Object.entries(MESSAGES) as Array<[MessageKey, Bilingual]>;
}

/** `Accept-Language: en-US,en;q=0.9` → en; anything else → the configured default. */
export function langFromHeader(header: string | string[] | undefined, fallback: Lang): Lang {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return fallback;
  const first = value.split(',')[0]?.trim().toLowerCase() ?? '';
  if (first.startsWith('en')) return 'en';
  if (first.startsWith('zh')) return 'zh';
  return fallback;
}
