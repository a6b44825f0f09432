/*
 * cfg_chain.h - <handlerchain> (james.md 1b.1): builds a server's handler
 * chain from the XML. Used by the SMTP loader and meant for the LMTP one.
 */
#ifndef MAILETD_CFG_CHAIN_H
#define MAILETD_CFG_CHAIN_H

#include "../../handlers/chain.h"
#include "cfg_xml.h"

/*
 * Reads <handlerchain> node: every <handler class=..> in document order
 * (James class or mailetd short name; each reads its own parameters), then
 * the core set of coreHandlersPackage (default: James's CoreCmdHandlerLoader
 * of the protocol). Loaders named as handlers do nothing, as in James.
 * James classes mailetd does not run are warned about by name and
 * recorded as skipped; an unknown class is an error naming the known ones.
 * Returns the chain (caller owns it; never NULL; errors are in x->diag).
 */
struct chain *cfg_chain_read(struct cfg_xml *x, const xmlNode *node, bool lmtp);

/* The chain of a server without <handlerchain>: the protocol's core set. */
struct chain *cfg_chain_default(bool lmtp);

#endif
