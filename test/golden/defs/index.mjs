// All golden cases, in generation order.
import { scenarioCases } from "./scenarios.mjs";
import { edgeCases } from "./edge.mjs";
import { errorCases } from "./errors.mjs";
import { formatCases } from "./formats.mjs";
import { imageOptsCases } from "./image-opts.mjs";

export const cases = [...scenarioCases, ...edgeCases, ...errorCases, ...formatCases, ...imageOptsCases];
