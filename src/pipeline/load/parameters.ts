// training_load's own task parameters: none. It reads only the guide's flags (enable_sql_validation,
// backup_vector_tables, truncate_vector_tables), which the task model owns and the runner passes in.
import { z } from 'zod';

export const loadParameters = z.object({});
