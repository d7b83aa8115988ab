// rjsf's field template with, under each field, where its value comes from ("set here",
// "inherited from prod") and, for a value set in this environment's layer, "reset to inherited".
import { getDefaultRegistry } from "@rjsf/core";
import { ADDITIONAL_PROPERTY_FLAG, type FieldTemplateProps, type WrapIfAdditionalTemplateProps } from "@rjsf/utils";
import { createContext, useContext } from "react";
import type { ProvenanceEntry } from "../../api/types";
import { describeOrigin, originOf, resettable } from "./model";
import type { Path } from "./pointers";

export interface Provenance {
  env: string;
  entries: ProvenanceEntry[];
  canEdit: boolean;
  why: string; // why editing is refused, when it is
  busy: boolean;
  onReset: (path: Path) => void;
}

export const ProvenanceContext = createContext<Provenance | null>(null);

const Base = getDefaultRegistry().templates.FieldTemplate;

export function FieldTemplate(props: FieldTemplateProps) {
  const context = useContext(ProvenanceContext);
  const path = props.fieldPathId.path as Path;
  if (!context || !path.length || props.hidden) return <Base {...props} />;
  const origin = originOf(context.entries, context.env, path);
  const canReset = resettable(context.entries, context.env, path);
  const label = props.label || String(path[path.length - 1]);
  const note = origin ? (
    <p className={`origin origin-${origin.kind}`} id={`${props.id}__origin`}>
      <span title={"entry" in origin ? `${origin.entry.file}${origin.entry.line ? `:${origin.entry.line}` : ""}` : undefined}>
        {describeOrigin(origin)}
      </span>
      {canReset && (
        <button
          type="button"
          className="link reset"
          disabled={!context.canEdit || context.busy}
          title={context.canEdit ? `Remove ${label} from ${context.env}'s layer: ${context.env} then inherits it` : context.why}
          aria-label={`Reset to inherited: ${path.join(".")}`}
          onClick={() => context.onReset(path)}
        >
          Reset to inherited
        </button>
      )}
    </p>
  ) : null;
  const help = (
    <>
      {props.help}
      {note}
    </>
  );
  return <Base {...props} help={help} />;
}

/** rjsf's wrapper of an additional property (a key of `features`): the key's input always has
 * a label (rjsf's has none beside a checkbox), then the value and its Remove button. */
export function WrapIfAdditionalTemplate(props: WrapIfAdditionalTemplateProps) {
  const { id, classNames, style, disabled, readonly, label, schema, children, registry, uiSchema } = props;
  const className = ["form-group", classNames].filter(Boolean).join(" ");
  if (!(ADDITIONAL_PROPERTY_FLAG in schema)) {
    return (
      <div className={className} style={style}>
        {children}
      </div>
    );
  }
  const { RemoveButton } = registry.templates.ButtonTemplates;
  return (
    <div className={`${className} additional`} style={style}>
      <label className="key" htmlFor={`${id}-key`}>
        Key
      </label>
      <input
        type="text"
        id={`${id}-key`}
        defaultValue={label}
        disabled={disabled || readonly}
        onBlur={props.onKeyRenameBlur}
        aria-label={`Key ${label}`}
      />
      <div className="value">{children}</div>
      <RemoveButton
        id={`${id}-remove`}
        disabled={disabled || readonly}
        onClick={props.onRemoveProperty}
        uiSchema={uiSchema ?? {}}
        registry={registry}
      />
    </div>
  );
}
