// rjsf's item buttons (add, remove, move, copy) with words: its default ones draw icons from a
// font the dashboard does not load, which leaves empty buttons.
import type { IconButtonProps } from "@rjsf/utils";

function textButton(text: string) {
  function TextButton(props: IconButtonProps) {
    const { iconType: _iconType, icon: _icon, uiSchema: _uiSchema, registry: _registry, className, ...rest } = props;
    return (
      <button type="button" {...rest} className={["item-button", className].filter(Boolean).join(" ")}>
        {text}
      </button>
    );
  }
  TextButton.displayName = `TextButton(${text})`;
  return TextButton;
}

export const ButtonTemplates = {
  AddButton: textButton("Add"),
  RemoveButton: textButton("Remove"),
  MoveUpButton: textButton("Move up"),
  MoveDownButton: textButton("Move down"),
  CopyButton: textButton("Copy"),
};
